import { useState } from "react";
import type { SourceSpec } from "../bindings";
import { useCaptures, useSetSource, useStatus } from "../lib/queries";
import { errorMessage } from "../lib/ipc";
import { Dialog } from "./Dialog";
import { pairName } from "../lib/format";

const ALL = ["DOGEUSDT", "SHIBUSDT", "PEPEUSDT", "WIFUSDT", "BONKUSDT", "FLOKIUSDT", "BTCUSDT", "ETHUSDT"];

type Tab = "candles" | "capture" | "sim" | "live";

function dateToMs(d: string): number | null {
  if (!d) return null;
  const t = Date.parse(`${d}T00:00:00Z`);
  return Number.isFinite(t) ? t : null;
}

/** Choose the market: a replay (bundled candles or a recorded capture), the simulator, or live. */
export function SourceDialog(props: { onClose: () => void }) {
  const status = useStatus();
  const captures = useCaptures();
  const setSource = useSetSource();
  const cur = status.data?.source;
  const [tab, setTab] = useState<Tab>(cur ? (cur.kind as Tab) : "candles");
  const [symbols, setSymbols] = useState<string[]>(
    cur && (cur.kind === "candles" || cur.kind === "live") ? cur.symbols : ALL,
  );
  const [interval, setInterval] = useState(cur?.kind === "candles" ? cur.interval : "5m");
  const [from, setFrom] = useState("");
  const [capture, setCapture] = useState(cur?.kind === "capture" ? cur.path : "");
  const [seed, setSeed] = useState(cur?.kind === "sim" ? String(cur.seed) : "1");
  const [error, setError] = useState<string | null>(null);

  const toggle = (s: string) =>
    setSymbols(symbols.includes(s) ? symbols.filter((x) => x !== s) : [...symbols, s]);

  const build = (): SourceSpec | string => {
    switch (tab) {
      case "candles":
        if (symbols.length === 0) return "Choose at least one pair";
        return { kind: "candles", symbols, interval, from_ms: dateToMs(from) };
      case "capture":
        if (!capture) return "Choose a capture";
        return { kind: "capture", path: capture };
      case "sim": {
        const n = Number(seed);
        if (!Number.isInteger(n) || n < 0 || n > 4294967295) return "The seed is a whole number from 0 to 4294967295";
        return { kind: "sim", seed: n };
      }
      case "live":
        if (symbols.length === 0) return "Choose at least one pair";
        return { kind: "live", symbols };
    }
  };

  const start = () => {
    const spec = build();
    if (typeof spec === "string") {
      setError(spec);
      return;
    }
    setError(null);
    setSource.mutate(
      { source: spec, fresh: false },
      { onSuccess: () => props.onClose(), onError: (e) => setError(errorMessage(e)) },
    );
  };

  return (
    <Dialog
      title="Market source"
      onClose={props.onClose}
      wide
      testId="source-dialog"
      footer={
        <>
          {error && <span className="error-text">{error}</span>}
          <button className="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button className="btn btn-primary" onClick={start} disabled={setSource.isPending}>
            {setSource.isPending ? "Starting…" : "Start"}
          </button>
        </>
      }
    >
      <div className="tabs">
        {(
          [
            ["candles", "Replay: candles"],
            ["capture", "Replay: order-book capture"],
            ["sim", "Simulator"],
            ["live", "Live (Binance)"],
          ] as [Tab, string][]
        ).map(([t, l]) => (
          <button key={t} className={tab === t ? "active" : ""} onClick={() => setTab(t)}>
            {l}
          </button>
        ))}
      </div>
      {tab === "candles" && (
        <div className="form-grid">
          <p className="hint">
            Real Binance candles of 2024-01-01 to 2024-06-30, bundled with the app. Orders fill at
            the next bar's open; limits fill when a bar trades through them. There is no order
            book in a candle replay.
          </p>
          <label>Interval</label>
          <select value={interval} onChange={(e) => setInterval(e.target.value)}>
            <option value="5m">5 minutes</option>
            <option value="1h">1 hour</option>
          </select>
          <label>Start on</label>
          <input type="date" min="2024-01-01" max="2024-06-30" value={from} onChange={(e) => setFrom(e.target.value)} />
          <label>Pairs</label>
          <SymbolPicker symbols={symbols} toggle={toggle} />
        </div>
      )}
      {tab === "capture" && (
        <div className="form-grid">
          <p className="hint">
            A recorded Binance WebSocket capture, replayed through a real local order book: orders
            fill against the recorded book and trades. Record your own with{" "}
            <code>papermemes record --symbols pepeusdt --out FILE.gz</code> and put it in the data
            folder's <code>captures/</code>.
          </p>
          <label>Capture</label>
          <div className="list">
            {captures.isLoading && <div className="muted">Loading…</div>}
            {captures.data?.length === 0 && <div className="muted">No captures found.</div>}
            {captures.data?.map((c) => (
              <label key={c.path} className="radio-row">
                <input type="radio" name="capture" checked={capture === c.path} onChange={() => setCapture(c.path)} />
                <span>{c.name}</span>
                <span className="muted">
                  {((c.size_bytes ?? 0) / 1e6).toFixed(1)} MB {c.bundled ? "· bundled" : ""}
                </span>
              </label>
            ))}
          </div>
        </div>
      )}
      {tab === "sim" && (
        <div className="form-grid">
          <p className="hint">
            A synthetic market for all eight pairs, calibrated from the real candles (volatility by
            hour, jumps, volume), with an order book and trades. The same seed gives the same
            market. Simulated prices are not real prices.
          </p>
          <label>Seed</label>
          <input inputMode="numeric" value={seed} onChange={(e) => setSeed(e.target.value)} />
        </div>
      )}
      {tab === "live" && (
        <div className="form-grid">
          <p className="hint">
            Binance's public market streams (no account, no keys): order book, trades and candles
            as they happen. Needs an internet connection; your orders are paper orders.
          </p>
          <label>Pairs</label>
          <SymbolPicker symbols={symbols} toggle={toggle} />
        </div>
      )}
    </Dialog>
  );
}

function SymbolPicker(props: { symbols: string[]; toggle: (s: string) => void }) {
  return (
    <div className="chips">
      {ALL.map((s) => (
        <label key={s} className={`chip ${props.symbols.includes(s) ? "on" : ""}`}>
          <input type="checkbox" checked={props.symbols.includes(s)} onChange={() => props.toggle(s)} />
          {pairName(s)}
        </label>
      ))}
    </div>
  );
}
