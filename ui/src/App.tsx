import { useEffect, useRef, useState } from "react";
import type { Frame } from "./bindings";
import { useQueryClient } from "@tanstack/react-query";
import { Header } from "./components/Header";
import { Watchlist } from "./components/Watchlist";
import { ChartPanel } from "./components/ChartPanel";
import { OrderBookPanel } from "./components/OrderBook";
import { TradesPanel } from "./components/Trades";
import { TicketPanel } from "./components/Ticket";
import { AccountPanel } from "./components/AccountPanel";
import { BottomPanel } from "./components/BottomPanel";
import { StatusBar } from "./components/StatusBar";
import { Toasts, toast } from "./components/Toasts";
import { invalidateAccount, keys, useSavePrefs, useSettings } from "./lib/queries";
import { api, onNotice, watchMarket } from "./lib/ipc";
import { useMarket, useUi } from "./lib/store";
import { formatPrice, formatQty, pairName } from "./lib/format";
import { useShortcuts } from "./lib/shortcuts";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { MemeStudio } from "./components/MemeStudio";

export function App() {
  const qc = useQueryClient();
  const settings = useSettings();
  const theme = useUi((s) => s.theme);
  const symbol = useMarket((s) => s.symbol);
  const interval = useMarket((s) => s.interval);
  const screen = useUi((s) => s.screen);
  const [memesVisited, setMemesVisited] = useState(false);
  useEffect(() => {
    if (screen === "memes") setMemesVisited(true);
  }, [screen]);

  // The saved preferences (theme, symbol, interval), applied once, when they are first known. Later
  // answers are what the page itself saved: applying them again could only put back an older pair.
  const prefsApplied = useRef(false);
  useEffect(() => {
    const s = settings.data;
    if (!s || prefsApplied.current) return;
    prefsApplied.current = true;
    if (s.theme === "light" || s.theme === "dark") useUi.getState().setTheme(s.theme);
    if (s.symbol) useMarket.getState().select(s.symbol);
    if (s.interval) useMarket.getState().setInterval(s.interval);
  }, [settings.data]);

  // The pair and timeframe the user picks are saved, so the app reopens on them.
  const savePrefs = useSavePrefs();
  useEffect(() => {
    const s = settings.data;
    if (!prefsApplied.current || !s) return;
    if (s.symbol !== symbol || s.interval !== interval) savePrefs.mutate({ symbol, interval });
    // Only a new choice saves; the settings changing is the answer to a save.
  }, [symbol, interval]);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  // Market frames for the selected symbol and interval, applied once per display frame
  // (frames that arrive in between are folded together: one render, however fast the feed).
  useEffect(() => {
    let queue: Frame[] = [];
    let scheduled = 0;
    const flush = () => {
      scheduled = 0;
      const batch = queue;
      queue = [];
      useMarket.getState().applyFrames(batch);
    };
    const stop = watchMarket({ symbol, interval, depth: 20 }, (f) => {
      queue.push(f);
      if (!scheduled) scheduled = requestAnimationFrame(flush);
    });
    return () => {
      stop();
      if (scheduled) cancelAnimationFrame(scheduled);
    };
  }, [symbol, interval]);

  // Engine notices: refresh what changed, toast fills and problems.
  useEffect(() => {
    return onNotice((n) => {
      switch (n.kind) {
        case "fill": {
          invalidateAccount(qc);
          const f = n.fill;
          toast({
            kind: f.side === "BUY" ? "buy" : "sell",
            title: `${f.side === "BUY" ? "Bought" : "Sold"} ${formatQty(f.quantity, 8).replace(/\.?0+$/, "")} ${pairName(f.symbol)}`,
            body: `at ${formatPrice(f.price, 8)} · fee ${f.fee} ${f.fee_asset}${f.is_maker ? " (maker)" : ""}`,
          });
          break;
        }
        case "order":
          invalidateAccount(qc);
          if (n.status === "EXPIRED" || n.status === "REJECTED") {
            toast({ kind: "info", title: `Order ${n.order_id} ${n.status.toLowerCase()}`, body: n.reason ?? "" });
          }
          break;
        case "status":
          qc.setQueryData(keys.status, n.status);
          break;
        case "error":
          toast({ kind: "error", title: "Problem", body: n.message });
          break;
      }
    });
  }, [qc]);

  useShortcuts();

  // Tell the shell once the screen shows live prices (it logs the start-up time).
  const ready = useMarket((s) => Object.keys(s.tickers).length > 0);
  useEffect(() => {
    if (ready) void api.uiReady().catch(() => {});
  }, [ready]);

  return (
    <div className="app">
      <Header />
      {/* Mounted on first visit, then kept (hidden) so an edit in progress survives a look at
          the market. */}
      {memesVisited && (
        <ErrorBoundary name="The meme studio">
          <MemeStudio hidden={screen !== "memes"} />
        </ErrorBoundary>
      )}
      <main className="grid" hidden={screen !== "trade"}>
        <ErrorBoundary name="The watchlist">
          <Watchlist />
        </ErrorBoundary>
        <section className="center">
          <ErrorBoundary name="The chart">
            <ChartPanel />
          </ErrorBoundary>
          <ErrorBoundary name="The orders and positions">
            <BottomPanel />
          </ErrorBoundary>
        </section>
        <section className="book-col">
          <ErrorBoundary name="The order book">
            <OrderBookPanel />
          </ErrorBoundary>
          <ErrorBoundary name="The trades">
            <TradesPanel />
          </ErrorBoundary>
        </section>
        <section className="ticket-col">
          <ErrorBoundary name="The order ticket">
            <TicketPanel />
          </ErrorBoundary>
          <ErrorBoundary name="The account">
            <AccountPanel />
          </ErrorBoundary>
        </section>
      </main>
      <StatusBar />
      <Toasts />
    </div>
  );
}
