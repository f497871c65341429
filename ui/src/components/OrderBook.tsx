import { useEffect, useRef } from "react";
import { useInstrument } from "../lib/hooks";
import { useStatus } from "../lib/queries";
import { useMarket, useUi } from "../lib/store";
import { formatPrice, formatSize } from "../lib/format";
import {
  askY,
  bidY,
  hitRow,
  ladder,
  ladderLayout,
  ladderSummary,
  ROW_H,
  SPREAD_H,
  type Ladder,
  type LadderRow,
} from "../lib/ladder";

// The ladder is drawn in one canvas, as the chart is. As DOM rows, each book update (up to 30 a
// second at 10x) restyled, laid out and repainted forty rows and, with the tape or a ticker
// changing in the same frame, the whole window: about a third of the web process's CPU
// (docs/desktop-memory.md, tenth and eleventh passes). A canvas update is one repaint of its own
// layer, and needs no style or layout at all.

interface Palette {
  text: string;
  muted: string;
  up: string;
  down: string;
  upBg: string;
  downBg: string;
  hover: string;
  border: string;
}

function palette(el: Element): Palette {
  const css = getComputedStyle(el);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    text: v("--text"),
    muted: v("--muted"),
    up: v("--up"),
    down: v("--down"),
    upBg: v("--up-bg"),
    downBg: v("--down-bg"),
    hover: v("--panel-2"),
    border: v("--border"),
  };
}

const MONO = '12px "JetBrains Mono", monospace';
const MONO_MID = '13px "JetBrains Mono", monospace';
const SANS_SMALL = "11px Inter, sans-serif";
const PAD = 10;

interface DrawState {
  ladder: Ladder;
  pd: number;
  qd: number;
  hover: { side: "bid" | "ask"; index: number } | null;
}

function draw(ctx: CanvasRenderingContext2D, w: number, h: number, p: Palette, s: DrawState) {
  ctx.clearRect(0, 0, w, h);
  const layout = ladderLayout(h);
  const { ladder: l, pd, qd } = s;
  // Columns as the header names them: price (left), size and total (right-aligned), 1.2 : 1 : 1.
  const inner = w - 2 * PAD;
  const sizeRight = PAD + (inner * 2.2) / 3.2;
  const totalRight = w - PAD;
  ctx.textBaseline = "middle";
  ctx.font = MONO;
  const row = (r: LadderRow, y: number, isBid: boolean, index: number) => {
    if (y + ROW_H <= 0 || y >= h) return;
    if (s.hover && s.hover.side === (isBid ? "bid" : "ask") && s.hover.index === index) {
      ctx.fillStyle = p.hover;
      ctx.fillRect(0, y, w, ROW_H);
    }
    const frac = l.max > 0 ? Math.min(1, r.cum / l.max) : 0;
    if (frac > 0) {
      ctx.fillStyle = isBid ? p.upBg : p.downBg;
      ctx.fillRect(w - w * frac, y, w * frac, ROW_H);
    }
    const mid = y + ROW_H / 2;
    ctx.textAlign = "left";
    ctx.fillStyle = isBid ? p.up : p.down;
    ctx.fillText(formatPrice(r.price, pd), PAD, mid);
    ctx.textAlign = "right";
    ctx.fillStyle = p.text;
    ctx.fillText(formatSize(r.qty, qd), sizeRight, mid);
    ctx.fillStyle = p.muted;
    ctx.fillText(formatSize(String(r.cum), qd), totalRight, mid);
  };
  l.asks.forEach((r, i) => row(r, askY(layout, i), false, i));
  l.bids.forEach((r, i) => row(r, bidY(layout, i), true, i));
  // The spread row: the mid price, and the spread in price and basis points.
  const top = layout.spreadY;
  ctx.fillStyle = p.border;
  ctx.fillRect(0, top, w, 1);
  ctx.fillRect(0, top + SPREAD_H - 1, w, 1);
  const mid = top + SPREAD_H / 2;
  ctx.textAlign = "left";
  ctx.fillStyle = p.text;
  ctx.font = MONO_MID;
  ctx.fillText(formatPrice(l.mid, pd + 1), PAD, mid);
  ctx.textAlign = "right";
  ctx.fillStyle = p.muted;
  ctx.font = SANS_SMALL;
  const spread = l.spread === null ? "—" : formatPrice(l.spread, pd);
  ctx.fillText(`spread ${spread}${l.spreadBps === null ? "" : ` (${l.spreadBps} bps)`}`, totalRight, mid);
}

/** The ladder's canvas: redrawn at most once a display frame, when the book, the instrument,
 *  the theme, the size or the row under the pointer change. */
function BookCanvas(props: { symbol: string; pd: number; qd: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const theme = useUi((s) => s.theme);
  // What the pointer handlers and the frame callback read (never React state: a book update
  // must not render React).
  const live = useRef({
    symbol: props.symbol,
    pd: props.pd,
    qd: props.qd,
    ladder: ladder(null, props.pd),
    hover: null as DrawState["hover"],
    palette: null as Palette | null,
    size: { w: 0, h: 0, dpr: 1 },
    frame: 0,
    label: "",
    counts: "",
    labelAt: 0,
    labelTimer: 0,
    redraw: () => {},
  });

  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    const st = live.current;
    const setLabel = () => {
      st.labelTimer = 0;
      const text = ladderSummary(st.ladder, st.pd);
      if (text === st.label) return;
      st.label = text;
      st.labelAt = performance.now();
      canvas.setAttribute("aria-label", text);
    };
    const paint = () => {
      st.frame = 0;
      const book = useMarket.getState().book;
      st.ladder = ladder(book?.symbol === st.symbol ? book : null, st.pd);
      if (!st.palette) st.palette = palette(canvas);
      const { w, h, dpr } = st.size;
      if (w === 0 || h === 0) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      draw(ctx, w, h, st.palette, st);
      // The accessible name follows the book at most once a second (a screen reader cannot read
      // faster, and each change is work for the page); a change of level count shows at once.
      const counts = `${st.ladder.bids.length}/${st.ladder.asks.length}`;
      if (counts !== st.counts || performance.now() - st.labelAt >= 1000) {
        st.counts = counts;
        if (st.labelTimer) clearTimeout(st.labelTimer);
        setLabel();
      } else if (!st.labelTimer) st.labelTimer = window.setTimeout(setLabel, 1000);
    };
    st.redraw = () => {
      if (!st.frame) st.frame = requestAnimationFrame(paint);
    };
    const resize = () => {
      const dpr = window.devicePixelRatio || 1;
      const w = canvas.clientWidth;
      const h = canvas.clientHeight;
      st.size = { w, h, dpr };
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      if (st.frame) cancelAnimationFrame(st.frame);
      paint(); // at once: a resized canvas is blank until drawn
    };
    const ro = new ResizeObserver(resize);
    ro.observe(canvas);
    // A move to a screen of another pixel density changes no CSS size: follow the density too.
    let dprQuery: MediaQueryList | null = null;
    const watchDensity = () => {
      dprQuery?.removeEventListener("change", onDensity);
      dprQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
      dprQuery.addEventListener("change", onDensity);
    };
    const onDensity = () => {
      resize();
      watchDensity();
    };
    watchDensity();
    let lastBook = useMarket.getState().book;
    const unsub = useMarket.subscribe((s) => {
      if (s.book !== lastBook) {
        lastBook = s.book;
        st.redraw();
      }
    });
    return () => {
      ro.disconnect();
      dprQuery?.removeEventListener("change", onDensity);
      unsub();
      if (st.frame) cancelAnimationFrame(st.frame);
      if (st.labelTimer) clearTimeout(st.labelTimer);
      st.frame = 0;
      st.labelTimer = 0;
    };
  }, []);

  useEffect(() => {
    const st = live.current;
    st.symbol = props.symbol;
    st.pd = props.pd;
    st.qd = props.qd;
    st.redraw();
  }, [props.symbol, props.pd, props.qd]);

  useEffect(() => {
    // The theme's colours are read at the next draw, after the page has switched them.
    live.current.palette = null;
    live.current.redraw();
  }, [theme]);

  const at = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return hitRow(ladderLayout(live.current.size.h), live.current.ladder, e.clientY - rect.top);
  };
  const setHover = (h: DrawState["hover"]) => {
    const st = live.current;
    if (st.hover?.side === h?.side && st.hover?.index === h?.index) return;
    st.hover = h;
    if (ref.current) ref.current.style.cursor = h ? "pointer" : "";
    st.redraw();
  };
  return (
    <canvas
      ref={ref}
      className="book-canvas"
      data-testid="book-ladder"
      role="img"
      aria-label="Order book"
      title="Click a level to use its price"
      onMouseMove={(e) => {
        const hit = at(e);
        setHover(hit ? { side: hit.side, index: hit.index } : null);
      }}
      onMouseLeave={() => setHover(null)}
      onClick={(e) => {
        const hit = at(e);
        if (hit) useUi.getState().setTicket({ price: hit.row.price });
      }}
    />
  );
}

export function OrderBookPanel() {
  const symbol = useMarket((s) => s.symbol);
  const hasData = useMarket((s) => s.book?.symbol === symbol);
  const status = useStatus();
  const inst = useInstrument(symbol);
  const pd = inst?.price_decimals ?? 8;
  const qd = inst?.qty_decimals ?? 2;
  const hasBook = status.data?.has_book ?? true;

  if (!hasBook) {
    return (
      <div className="panel book-panel">
        <div className="panel-head">
          <h3>Order book</h3>
        </div>
        <div className="empty">
          A candle replay has no order book. Choose the simulator or an order-book capture to trade
          against real depth.
        </div>
      </div>
    );
  }
  return (
    <div className="panel book-panel" data-testid="order-book">
      <div className="panel-head">
        <h3>Order book</h3>
        <span className="muted small">price · size · total</span>
      </div>
      {!hasData && <div className="empty">Waiting for the book…</div>}
      <div className="book" hidden={!hasData}>
        <BookCanvas symbol={symbol} pd={pd} qd={qd} />
      </div>
    </div>
  );
}
