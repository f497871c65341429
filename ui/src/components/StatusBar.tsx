import { useAppInfo, useStatus } from "../lib/queries";
import { useMarket } from "../lib/store";
import { formatTime } from "../lib/format";

const STATE_LABEL: Record<string, string> = {
  connecting: "Connecting",
  syncing: "Syncing",
  live: "Running",
  stale: "Stale",
  resyncing: "Resyncing",
  stopped: "Stopped",
  paused: "Paused",
  finished: "Finished",
  loading: "Loading",
};

export function StatusBar() {
  const status = useStatus();
  const info = useAppInfo();
  // Whole seconds: the bar re-renders once a second, not every frame.
  const marketTime = useMarket((s) => (s.marketTime === null ? null : Math.floor(s.marketTime / 1000) * 1000));
  const st = status.data;
  const state = st?.state ?? "loading";
  const label = st?.kind === "live" && state === "live" ? "Live" : (STATE_LABEL[state] ?? state);
  return (
    <footer className="statusbar" data-testid="statusbar">
      <span className={`dot dot-${state}`} aria-hidden />
      <span data-testid="feed-state">{status.isError ? "Engine unavailable" : label}</span>
      <span className="muted" title={st?.reason}>
        {st?.reason}
      </span>
      <span className="sep" />
      <span>{st?.source_label ?? ""}</span>
      {st?.kind === "sim" && <span className="badge warn-badge">simulated prices</span>}
      <span className="sep" />
      <span className="mono" title="Market time (UTC)">
        {formatTime(marketTime ?? st?.market_time_ms ?? null)} UTC
      </span>
      <span className="sep" />
      <span className="mono">{st ? `${(st.events_per_sec ?? 0).toFixed(0)} ev/s` : ""}</span>
      {st?.lag_ms !== null && st?.lag_ms !== undefined && <span className="mono">latency {st.lag_ms} ms</span>}
      {st && st.reconnects > 0 && <span className="mono">reconnects {st.reconnects}</span>}
      <div className="spacer" />
      <span className="muted small" title="Data folder">
        {info.data?.data_dir ?? st?.data_dir ?? ""}
      </span>
      <span className="muted small">v{info.data?.version ?? ""}</span>
    </footer>
  );
}
