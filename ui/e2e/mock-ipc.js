// A stand-in for the Tauri shell, injected into the page before the app loads (UI tests only).
// It answers the app's commands from a small in-memory paper account and streams frames of a
// made-up market through the app's Channel, so the built UI can be driven in Chromium. What it
// receives is recorded in `window.__mock.calls` for the tests to check. The real engine is
// tested in Rust and end to end (tests/e2e); this only checks the UI.
(() => {
  const params = window.__MOCK_PARAMS__ || {};
  const instruments = params.instruments || [];
  const callbacks = new Map();
  let nextCb = 1;
  const calls = [];
  const state = {
    orders: [],
    history: [],
    fills: params.fills || [],
    nextOrder: 1,
    usdt: "10000",
    frameRate: params.frameRate || 10,
    channel: null,
    channelIndex: 0,
    view: null,
    t: Date.UTC(2025, 0, 2, 0, 0, 0),
    listeners: new Map(),
    // A simulator whose chart history is still being worked out (for this many ms after load).
    historyUntil: params.historyPendingMs ? Date.now() + params.historyPendingMs : 0,
    historySent: !params.historyPendingMs,
    // An account that answers only this many ms after load.
    portfolioFrom: Date.now() + (params.portfolioDelayMs || 0),
  };
  const historyPending = () => Date.now() < state.historyUntil;
  const prices = {
    PEPEUSDT: 0.00001234,
    DOGEUSDT: 0.12345,
    SHIBUSDT: 0.00002111,
    WIFUSDT: 2.123,
    BONKUSDT: 0.00002489,
    FLOKIUSDT: 0.00016504,
    BTCUSDT: 63119.28,
    ETHUSDT: 3247.85,
  };
  const symbols = Object.keys(prices);
  const inst = (s) => instruments.find((i) => i.symbol === s);
  const fmt = (p, s) => {
    const d = inst(s) ? inst(s).price_decimals : 8;
    return p.toFixed(d);
  };

  function status() {
    return {
      kind: "sim",
      source: { kind: "sim", seed: 1 },
      source_label: "Simulator · seed 1 (UI test double)",
      state: "live",
      reason: "running at 1×",
      paused: false,
      speed: 1,
      market_time_ms: state.t,
      start_ms: Date.UTC(2025, 0, 1),
      end_ms: null,
      symbols,
      intervals: ["1m", "5m", "15m", "1h", "4h", "1d"],
      has_book: true,
      has_trades: true,
      account_id: 1,
      data_dir: "/tmp/ui-test",
      events_per_sec: 100,
      lag_ms: null,
      reconnects: 0,
      resyncs: 0,
      history_pending: historyPending(),
    };
  }

  function portfolio() {
    const locked = state.orders
      .filter((o) => o.side === "BUY")
      .reduce((a, o) => a + Number(o.price) * Number(o.quantity), 0);
    return {
      account_id: 1,
      quote_asset: "USDT",
      market_time_ms: state.t,
      balances: [{ asset: "USDT", free: (10000 - locked).toFixed(8), locked: locked.toFixed(8), value: "10000" }],
      positions: [],
      equity: "10000",
      initial_cash: "10000",
      return_pct: 0,
      realized_pnl: "0",
      unrealized_pnl: "0",
      fees_paid: "0",
      open_orders: state.orders.length,
    };
  }

  const INTERVAL_MS = { "1m": 60e3, "5m": 300e3, "15m": 900e3, "1h": 3600e3, "4h": 14400e3, "1d": 86400e3 };

  function candles(symbol, interval, limit) {
    if (historyPending()) return [];
    const step = INTERVAL_MS[interval] || 60e3;
    const out = [];
    let p = prices[symbol] || 1;
    const end = Math.floor(state.t / step) * step;
    for (let i = Math.min(limit, 300) - 1; i >= 0; i--) {
      const o = p;
      const c = p * (1 + Math.sin(i / 7) * 0.002);
      out.push({
        time_ms: end - i * step,
        open: fmt(o, symbol),
        high: fmt(Math.max(o, c) * 1.001, symbol),
        low: fmt(Math.min(o, c) * 0.999, symbol),
        close: fmt(c, symbol),
        volume: "1000000",
      });
      p = c;
    }
    return out;
  }

  function book(symbol, depth) {
    const p = prices[symbol] || 1;
    const tick = Number(inst(symbol) ? inst(symbol).tick_size : "0.00000001");
    const bids = [];
    const asks = [];
    const wiggle = (state.channelIndex % 7) + 1;
    for (let i = 0; i < depth; i++) {
      bids.push([fmt(p - tick * (i + 1), symbol), String(1000000 + ((i * 7919 + wiggle * 104729) % 900000))]);
      asks.push([fmt(p + tick * (i + 1), symbol), String(1000000 + ((i * 104729 + wiggle * 7919) % 900000))]);
    }
    return { symbol, bids, asks, last_update_id: state.channelIndex };
  }

  // The bar the market is in now, for the view's interval: its close follows a slow wave, so a
  // chart fed with it draws a new bar each interval and moves the last one every frame.
  function liveCandle(symbol, interval) {
    const step = INTERVAL_MS[interval] || 60e3;
    const p = prices[symbol] || 1;
    const c = p * (1 + Math.sin(state.t / 97e3) * 0.003);
    return {
      time_ms: Math.floor(state.t / step) * step,
      open: fmt(p, symbol),
      high: fmt(Math.max(p, c) * 1.001, symbol),
      low: fmt(Math.min(p, c) * 0.999, symbol),
      close: fmt(c, symbol),
      volume: String(1000000 + (state.channelIndex % 1000) * 1000),
    };
  }

  // With `driftTicksPerSec`, the viewed pair's price climbs that many ticks per second of
  // market time, as a trending market does: every level of the book, the tape and the ticker
  // keeps reaching prices the page has not shown before, so anything the page keeps per value
  // (a memo of formatted prices, say) grows here as it would on a real market.
  const driftBase = {};
  function drift(symbol) {
    const perSec = params.driftTicksPerSec;
    if (!perSec || !inst(symbol)) return;
    if (!(symbol in driftBase)) driftBase[symbol] = { price: prices[symbol], t: state.t };
    const base = driftBase[symbol];
    const ticks = Math.floor(((state.t - base.t) / 1000) * perSec);
    prices[symbol] = base.price + ticks * Number(inst(symbol).tick_size);
  }

  function frame(first) {
    const v = state.view;
    if (!v) return null;
    state.t += 1000 / state.frameRate;
    drift(v.symbol);
    const f = {
      seq: state.channelIndex + 1,
      market_time_ms: state.t,
      tickers: [],
      book: book(v.symbol, v.depth),
      trades: [
        {
          time_ms: state.t,
          price: fmt(prices[v.symbol] || 1, v.symbol),
          quantity: "123456",
          buy: state.channelIndex % 2 === 0,
        },
      ],
      candles: params.liveCandles ? [liveCandle(v.symbol, v.interval)] : [],
      reset: first,
      history: false,
    };
    if (!state.historySent && !historyPending()) {
      state.historySent = true;
      f.history = true; // the history joined the bars: views reload their chart
      // As the engine does, the status (history no longer pending) is pushed at once.
      setTimeout(() => emit("notice-event", { kind: "status", status: status() }), 0);
    }
    if (first || state.channelIndex % 5 === 0) {
      f.tickers = symbols.map((s, i) => ({
        symbol: s,
        last: fmt(prices[s], s),
        change_pct: i % 2 === 0 ? 1.5 : -2.25,
        change_window_ms: 86400000,
        high: fmt(prices[s] * 1.05, s),
        low: fmt(prices[s] * 0.95, s),
        quote_volume: "123456789.12",
      }));
    }
    return f;
  }

  function send(f) {
    if (!state.channel || !f) return;
    const cb = callbacks.get(state.channel);
    if (cb) cb({ index: state.channelIndex++, message: f });
  }

  let timer = null;
  function startStream() {
    if (timer) clearInterval(timer);
    send(frame(true));
    timer = setInterval(() => send(frame(false)), 1000 / state.frameRate);
  }

  function reject(code, message) {
    return Promise.reject({ code, message });
  }

  function emit(event, payload) {
    for (const [id, ev] of state.listeners) {
      if (ev !== event) continue;
      const cb = callbacks.get(id);
      if (cb) cb({ event, id, payload });
    }
  }
  // The engine pushes its status every second (the page does not poll it).
  setInterval(() => emit("notice-event", { kind: "status", status: status() }), 1000);

  const memeTemplates = [
    { id: "rocket-launch", name: "Rocket launch", keywords: ["rocket", "moon", "pump"], tags: ["crypto", "win"], layout: "top-bottom", boxes: 2, width: 800, height: 600, animated: false, user: false, license: "Apache-2.0", source: "test", examples: [["when PEPE pumps", "and you sold"]] },
    { id: "cat-stare", name: "Cat stare", keywords: ["cat", "stare"], tags: ["reaction"], layout: "reaction", boxes: 1, width: 900, height: 830, animated: false, user: false, license: "CC0-1.0", source: "test", examples: [] },
    { id: "chart-pump-gif", name: "Chart pump", keywords: ["chart", "pump"], tags: ["crypto", "animated"], layout: "chart-caption", boxes: 2, width: 480, height: 480, animated: true, user: false, license: "MIT", source: "test", examples: [] },
  ];
  const topBottom = [
    { x: 0.04, y: 0.02, width: 0.92, height: 0.22, angle: 0 },
    { x: 0.04, y: 0.76, width: 0.92, height: 0.22, angle: 0 },
  ];
  memeTemplates[0].frames = topBottom;
  memeTemplates[1].frames = [{ x: 0.05, y: 0.75, width: 0.9, height: 0.2, angle: 0 }];
  memeTemplates[2].frames = topBottom;
  memeTemplates.push({ id: "my-dog", name: "My dog", keywords: [], tags: ["mine"], layout: "top-bottom", boxes: 2, frames: topBottom, width: 600, height: 600, animated: false, user: true, license: "user", source: "imported", examples: [] });
  state.gallery = [];
  state.nextMeme = 1;
  state.clipboard = null;
  function svg(id, texts) {
    const lines = texts.map((t, i) => `<text x="10" y="${40 + i * 30}" font-size="24">${String(t).replace(/[<&]/g, "")}</text>`).join("");
    return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" data-template="${id}"><rect width="400" height="300" fill="#345"/>${lines}</svg>`);
  }

  const handlers = {
    app_info: () => ({ version: "0.1.0", data_dir: "/tmp/ui-test", log_dir: "/tmp/ui-test/logs", config_file: "/tmp/ui-test/settings.toml" }),
    status: () => status(),
    instruments: () => instruments,
    captures: () => [],
    settings: () => ({ theme: "dark", market: "sim", speed: 1, symbol: "DOGEUSDT", interval: "1m", confirm_above: "1000", notify_fills: true }),
    update_settings: (a) => a.settings,
    candles: (a) => candles(a.symbol, a.interval, a.limit),
    portfolio: () =>
      new Promise((resolve) => setTimeout(() => resolve(portfolio()), Math.max(0, state.portfolioFrom - Date.now()))),
    open_orders: () => [...state.orders].reverse(),
    order_history: () => [...state.history].reverse(),
    fills: () => state.fills,
    equity: () => [],
    estimate: (a) => ({
      quantity: a.ticket.quantity || "0",
      avg_price: a.ticket.price,
      reference_price: a.ticket.price,
      slippage_bps: 0,
      notional: (Number(a.ticket.quantity || 0) * Number(a.ticket.price || 0)).toFixed(8),
      fee: (Number(a.ticket.quantity || 0) * Number(a.ticket.price || 0) * 0.001).toFixed(8),
      fee_asset: "USDT",
      taker: false,
      partial: false,
      basis: "rests on the book: fills at its price, maker fee",
    }),
    submit_order: (a) => {
      const t = a.ticket;
      const o = {
        id: state.nextOrder++,
        list_id: null,
        symbol: t.symbol,
        side: t.side,
        order_type: t.order_type,
        time_in_force: t.time_in_force,
        quantity: t.quantity,
        quote_quantity: t.quote_quantity,
        price: t.price,
        stop_price: t.stop_price,
        status: "NEW",
        executed_qty: "0",
        cumulative_quote_qty: "0",
        avg_price: null,
        created_ms: state.t,
        updated_ms: state.t,
        reason: null,
      };
      state.orders.push(o);
      state.history.push(o);
      return o;
    },
    cancel_order: (a) => {
      const i = state.orders.findIndex((o) => o.id === a.orderId);
      if (i < 0) return reject("order.unknown_order", `order ${a.orderId} is not open`);
      const [o] = state.orders.splice(i, 1);
      o.status = "CANCELED";
      setTimeout(() => emit("notice-event", { kind: "order", order_id: o.id, status: "CANCELED", reason: null }), 0);
      return o;
    },
    cancel_all: () => {
      const n = state.orders.length;
      for (const o of state.orders) o.status = "CANCELED";
      state.orders = [];
      return n;
    },
    watch_market: (a) => {
      state.view = a.view;
      state.channel = a.channel.id;
      state.channelIndex = 0;
      startStream();
      return null;
    },
    switch_market: () => status(),
    ui_ready: () => null,
    set_source: () => status(),
    pause: () => status(),
    set_speed: () => status(),
    step: () => status(),
    reset_account: () => portfolio(),
    // The meme studio: three templates, previews drawn as SVG that show the spec they were
    // made from (so a test sees what reached the renderer), a gallery in memory.
    meme_templates: (a) => {
      const q = (a.search || "").toLowerCase().split(/\s+/).filter(Boolean);
      return memeTemplates.filter(
        (t) =>
          q.every((w) => (t.name + " " + t.keywords.join(" ") + " " + t.tags.join(" ")).toLowerCase().includes(w)) &&
          (!a.tag || t.tags.includes(a.tag)),
      );
    },
    meme_tags: () => [...new Set(memeTemplates.flatMap((t) => t.tags))].sort(),
    meme_thumbnail: (a) => svg(a.id, []),
    meme_preview: (a) => {
      if (!memeTemplates.some((t) => t.id === a.spec.template)) return reject("meme.no_template", `no template "${a.spec.template}"`);
      return svg(a.spec.template, a.spec.captions.concat(a.spec.stickers.map((s) => s.emoji)));
    },
    meme_save: (a) => {
      const g = {
        id: state.nextMeme++,
        created_ms: Date.now(),
        template_id: a.spec.template,
        title: a.spec.captions.filter(Boolean).join(" / ") || a.spec.template,
        format: a.format,
        width: 800,
        height: 600,
        bytes: 54321,
        path: `/tmp/ui-test/memes/${state.nextMeme}.${a.format}`,
        exists: true,
        from_trade: false,
        spec: a.spec,
      };
      state.gallery.unshift(g);
      return g;
    },
    meme_export: () => null,
    meme_gallery: (a) => {
      const q = (a.search || "").toLowerCase();
      return state.gallery.filter((g) => (g.title + " " + g.template_id).toLowerCase().includes(q));
    },
    meme_gallery_image: (a) => {
      const g = state.gallery.find((x) => x.id === a.id);
      return g ? svg(g.template_id, [g.title]) : reject("meme.no_meme", `no saved meme ${a.id}`);
    },
    meme_open: (a) => {
      const g = state.gallery.find((x) => x.id === a.id);
      return g ? g.spec : reject("meme.no_meme", `no saved meme ${a.id}`);
    },
    meme_delete: (a) => {
      const i = state.gallery.findIndex((x) => x.id === a.id);
      if (i < 0) return reject("meme.no_meme", `no saved meme ${a.id}`);
      state.gallery.splice(i, 1);
      return null;
    },
    meme_for_position: (a) => ({
      symbol: a.symbol,
      entry_price: "0.1",
      exit_price: "0.12",
      entry_time_ms: state.t - 3600000,
      exit_time_ms: null,
      change_pct: 20,
      prices: [0.1, 0.11, 0.12],
      template: a.seed % 2 ? "cat-stare" : "rocket-launch",
      captions: ["DOGE +20%", "to the moon"],
    }),
    meme_trade_preview: (a) => svg(a.trade.template, a.trade.captions),
    meme_trade_save: (a) => handlers.meme_save({ spec: { template: a.trade.template, captions: a.trade.captions, stickers: [], size: "original" }, format: "png" }),
    meme_import: () => null,
    meme_copy: (a) => {
      state.clipboard = { spec: a.spec };
      return null;
    },
    meme_trade_copy: (a) => {
      state.clipboard = { trade: a.trade };
      return null;
    },
    meme_template_boxes: (a) => {
      const t = memeTemplates.find((x) => x.id === a.id);
      if (!t || !t.user) return reject("meme.not_user_template", `"${a.id}" is not an imported template (bundled templates are read-only)`);
      t.frames = a.frames;
      t.boxes = a.frames.length;
      return t;
    },
    meme_for_trade: (a) => {
      const f = state.fills.find((x) => x.id === a.fillId);
      if (!f || f.side !== "SELL") return reject("meme.not_closed", `fill ${a.fillId} does not close a trade`);
      return {
        symbol: f.symbol,
        entry_price: "0.1",
        exit_price: f.price,
        entry_time_ms: state.t - 7200000,
        exit_time_ms: f.time_ms,
        change_pct: -12.5,
        prices: [0.1, 0.095, 0.0875],
        template: "cat-stare",
        captions: ["rekt"],
        fill_id: f.id,
      };
    },
    "plugin:event|listen": (a) => {
      state.listeners.set(a.handler, a.event);
      return a.handler;
    },
    "plugin:event|unlisten": () => null,
  };

  window.__mock = { calls, state, emit, setFrameRate: (r) => { state.frameRate = r; startStream(); } };
  window.__TAURI_INTERNALS__ = {
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
    transformCallback(cb, once) {
      const id = nextCb++;
      callbacks.set(id, (x) => {
        if (once) callbacks.delete(id);
        return cb && cb(x);
      });
      return id;
    },
    unregisterCallback(id) {
      callbacks.delete(id);
    },
    convertFileSrc: (p) => p,
    invoke(cmd, args) {
      calls.push({ cmd, args: args ? JSON.parse(JSON.stringify(args, (k, v) => (k === "channel" ? "channel" : v))) : null });
      const h = handlers[cmd];
      if (!h) return reject("mock.unknown", `the UI test double does not know ${cmd}`);
      try {
        return Promise.resolve(h(args || {}));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: () => {} };
})();
