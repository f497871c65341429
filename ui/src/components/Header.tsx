import { useState } from "react";
import type { MarketKind } from "../bindings";
import { useMarketControl, usePortfolio, useSavePrefs, useStatus } from "../lib/queries";
import { api, errorMessage } from "../lib/ipc";
import { useQueryClient } from "@tanstack/react-query";
import { invalidateAccount, keys } from "../lib/queries";
import { formatMoney, formatPct } from "../lib/format";
import { useUi } from "../lib/store";
import { SourceDialog } from "./SourceDialog";
import { Confirm } from "./Dialog";
import { toast } from "./Toasts";
import { AboutDialog } from "./AboutDialog";

const KINDS: { kind: MarketKind; label: string; title: string }[] = [
  { kind: "replay", label: "Replay", title: "Recorded real market history (offline)" },
  { kind: "sim", label: "Simulator", title: "A seeded synthetic market (offline)" },
  { kind: "live", label: "Live", title: "Binance public streams (needs internet)" },
];

export const SPEEDS: { v: number; label: string }[] = [
  { v: 1, label: "1×" },
  { v: 2, label: "2×" },
  { v: 10, label: "10×" },
  { v: 60, label: "60×" },
  { v: 300, label: "300×" },
  { v: 1800, label: "1800×" },
  { v: 0, label: "Max" },
];

export function Header() {
  const qc = useQueryClient();
  const status = useStatus();
  const portfolio = usePortfolio();
  const control = useMarketControl();
  const savePrefs = useSavePrefs();
  const theme = useUi((s) => s.theme);
  const screen = useUi((s) => s.screen);
  const [dialog, setDialog] = useState<null | "source" | "restart" | "about">(null);
  const [switching, setSwitching] = useState<MarketKind | null>(null);
  const st = status.data;

  const switchTo = async (kind: MarketKind) => {
    if (st?.kind === kind || switching) return;
    setSwitching(kind);
    try {
      const s = await api.switchMarket(kind);
      qc.setQueryData(keys.status, s);
      invalidateAccount(qc);
    } catch (e) {
      toast({ kind: "error", title: "Cannot switch the market", body: errorMessage(e) });
    } finally {
      setSwitching(null);
    }
  };

  const restart = async () => {
    setDialog(null);
    if (!st) return;
    try {
      const s = await api.setSource(st.source, true);
      qc.setQueryData(keys.status, s);
      invalidateAccount(qc);
    } catch (e) {
      toast({ kind: "error", title: "Cannot restart", body: errorMessage(e) });
    }
  };

  const toggleTheme = () => {
    const next = theme === "dark" ? "light" : "dark";
    useUi.getState().setTheme(next);
    savePrefs.mutate({ theme: next });
  };

  const p = portfolio.data;
  const timed = st && st.kind !== "live";
  return (
    <header className="header">
      <div className="brand" onClick={() => setDialog("about")} title="About PaperMemes">
        <img src="/icon.png" alt="" width={22} height={22} />
        <span>PaperMemes</span>
        <span className="badge">paper</span>
      </div>
      <div className="segmented" role="tablist" aria-label="Screen">
        <button
          role="tab"
          aria-selected={screen === "trade"}
          className={screen === "trade" ? "active" : ""}
          onClick={() => useUi.getState().setScreen("trade")}
          data-testid="screen-trade"
        >
          Trade
        </button>
        <button
          role="tab"
          aria-selected={screen === "memes"}
          className={screen === "memes" ? "active" : ""}
          onClick={() => useUi.getState().setScreen("memes")}
          data-testid="screen-memes"
        >
          Memes
        </button>
      </div>
      <div className="segmented" role="tablist" aria-label="Market">
        {KINDS.map((k) => (
          <button
            key={k.kind}
            role="tab"
            aria-selected={st?.kind === k.kind}
            className={st?.kind === k.kind ? "active" : ""}
            title={k.title}
            disabled={switching !== null}
            onClick={() => void switchTo(k.kind)}
          >
            {switching === k.kind ? "…" : k.label}
          </button>
        ))}
      </div>
      <button className="btn btn-ghost" onClick={() => setDialog("source")} data-testid="source-button">
        {st ? st.source_label : "Loading market…"} <span className="caret">▼</span>
      </button>
      {timed && st && (
        <div className="replay-controls" aria-label="Replay controls">
          <button
            className="icon-btn"
            data-testid="play-pause"
            title={st.paused ? "Play" : "Pause"}
            disabled={st.state === "finished"}
            onClick={() => control.mutate({ pause: !st.paused })}
          >
            {st.paused ? "▶" : <span className="pause" />}
          </button>
          <select
            aria-label="Speed"
            value={String(st.speed ?? 1)}
            onChange={(e) => control.mutate({ speed: Number(e.target.value) })}
          >
            {SPEEDS.map((s) => (
              <option key={s.v} value={String(s.v)}>
                {s.label}
              </option>
            ))}
          </select>
          <button
            className="icon-btn"
            title="Step one market minute"
            disabled={!st.paused || st.state === "finished"}
            onClick={() => control.mutate({ step: 60_000 })}
          >
            +1m
          </button>
          <button className="icon-btn" title="Start this market again with a fresh account" onClick={() => setDialog("restart")}>
            ↺
          </button>
        </div>
      )}
      <div className="spacer" />
      <div className="equity-pill" title="Account equity (USDT) and return since the start">
        <span className="muted">Equity</span>
        <strong data-testid="equity">{p ? formatMoney(p.equity) : "—"}</strong>
        {p && <span className={(p.return_pct ?? 0) > 0 ? "up" : (p.return_pct ?? 0) < 0 ? "down" : ""}>{formatPct(p.return_pct)}</span>}
      </div>
      <button className="icon-btn" aria-label="Toggle theme" title="Light / dark theme" onClick={toggleTheme}>
        {theme === "dark" ? "☀" : <span className="moon" />}
      </button>
      {dialog === "source" && <SourceDialog onClose={() => setDialog(null)} />}
      {dialog === "about" && <AboutDialog onClose={() => setDialog(null)} />}
      {dialog === "restart" && st && (
        <Confirm
          title="Start again?"
          confirmLabel="Start again"
          danger
          onCancel={() => setDialog(null)}
          onConfirm={() => void restart()}
        >
          <p>
            {st.source_label} starts again from its beginning with a fresh paper account. The
            current account's orders and fills stay in the ledger's history.
          </p>
        </Confirm>
      )}
    </header>
  );
}
