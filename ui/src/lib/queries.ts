// Request/response data from the engine (TanStack Query). Notices from the engine invalidate
// what they change, so lists update the moment an order fills or is cancelled.

import { QueryClient, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { DesktopSettings, OcoTicket, OrderTicket, SourceSpec } from "../bindings";
import { api } from "./ipc";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 500 },
  },
});

export const keys = {
  status: ["status"] as const,
  instruments: ["instruments"] as const,
  portfolio: ["portfolio"] as const,
  openOrders: ["openOrders"] as const,
  history: ["history"] as const,
  fills: ["fills"] as const,
  equity: ["equity"] as const,
  settings: ["settings"] as const,
  info: ["info"] as const,
  captures: ["captures"] as const,
};

/** Everything that depends on the account (after a fill, a cancel, a reset, a new market). */
export function invalidateAccount(qc: QueryClient): void {
  for (const k of [keys.portfolio, keys.openOrders, keys.history, keys.fills, keys.equity]) {
    refresh(qc, k);
  }
}

/**
 * Mark a query stale and fetch it again if it is shown. A notice may arrive while the query's
 * first answer is on its way, an answer the engine may have read before the change. TanStack
 * Query folds a refetch into a first fetch in flight (it cancels only refetches of queries that
 * already have data), which would leave the list showing the old answer until the next notice:
 * that first fetch is cancelled and started again.
 */
function refresh(qc: QueryClient, queryKey: readonly string[]): void {
  const q = qc.getQueryCache().find({ queryKey, exact: true });
  if (q && q.state.fetchStatus !== "idle" && q.state.data === undefined) {
    void qc
      .cancelQueries({ queryKey, exact: true })
      .then(() => qc.invalidateQueries({ queryKey, exact: true }));
  } else {
    void qc.invalidateQueries({ queryKey, exact: true });
  }
}

/** The desk's status. The engine pushes it (a "status" notice every second and on every
 *  change), so it is fetched once and never polled: a poll re-rendered every panel that shows it
 *  once more a second, for nothing. */
export function useStatus() {
  return useQuery({ queryKey: keys.status, queryFn: () => api.status(), staleTime: Infinity });
}

export function useInstruments() {
  return useQuery({ queryKey: keys.instruments, queryFn: () => api.instruments(), staleTime: 60_000 });
}

export function usePortfolio() {
  // Marks move with the market: refreshed every second for live PnL.
  return useQuery({ queryKey: keys.portfolio, queryFn: () => api.portfolio(), refetchInterval: 1000 });
}

export function useOpenOrders() {
  return useQuery({ queryKey: keys.openOrders, queryFn: () => api.openOrders() });
}

export function useOrderHistory() {
  return useQuery({ queryKey: keys.history, queryFn: () => api.orderHistory(200) });
}

export function useFills() {
  return useQuery({ queryKey: keys.fills, queryFn: () => api.fills(200) });
}

export function useEquity() {
  return useQuery({ queryKey: keys.equity, queryFn: () => api.equity(), refetchInterval: 5000 });
}

export function useSettings() {
  return useQuery({ queryKey: keys.settings, queryFn: () => api.settings(), staleTime: Infinity });
}

export function useAppInfo() {
  return useQuery({ queryKey: keys.info, queryFn: () => api.appInfo(), staleTime: Infinity });
}

export function useCaptures() {
  return useQuery({ queryKey: keys.captures, queryFn: () => api.captures() });
}

export function useSubmit() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (o: { kind: "order"; ticket: OrderTicket } | { kind: "oco"; ticket: OcoTicket }) =>
      o.kind === "order" ? api.submitOrder(o.ticket).then((x) => [x]) : api.submitOco(o.ticket),
    onSettled: () => invalidateAccount(qc),
  });
}

export function useCancel() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.cancelOrder(id),
    onSettled: () => invalidateAccount(qc),
  });
}

export function useCancelAll() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (symbol: string | null) => api.cancelAll(symbol),
    onSettled: () => invalidateAccount(qc),
  });
}

export function useReset() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (cash: string | null) => api.resetAccount(cash),
    onSettled: () => {
      invalidateAccount(qc);
      void qc.invalidateQueries({ queryKey: keys.status });
    },
  });
}

export function useSetSource() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (a: { source: SourceSpec; fresh: boolean }) => api.setSource(a.source, a.fresh),
    onSuccess: (s) => qc.setQueryData(keys.status, s),
    onSettled: () => {
      invalidateAccount(qc);
      void qc.invalidateQueries({ queryKey: keys.instruments });
    },
  });
}

export function useMarketControl() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (a: { pause?: boolean; speed?: number; step?: number }) => {
      if (a.pause !== undefined) return api.pause(a.pause);
      if (a.speed !== undefined) return api.setSpeed(a.speed);
      return api.step(a.step ?? 1000);
    },
    onSuccess: (s) => qc.setQueryData(keys.status, s),
  });
}

/** The preferences the page itself keeps in the settings file. */
export type Prefs = Partial<Pick<DesktopSettings, "theme" | "symbol" | "interval">>;

/**
 * Save some of the page's preferences. They are merged into the settings as last known here (the
 * cache is updated at once, so two saves in a row do not undo each other) and the shell's answer,
 * the settings as saved, replaces them. Before the settings were first read there is nothing to
 * merge into and nothing is sent. The market and its speed are the engine's to save.
 */
export function useSavePrefs() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (patch: Prefs): Promise<DesktopSettings | undefined> => {
      const current = qc.getQueryData<DesktopSettings>(keys.settings);
      if (!current) return undefined;
      const next = { ...current, ...patch };
      qc.setQueryData(keys.settings, next);
      return api.updateSettings(next);
    },
    onSuccess: (s) => {
      if (s) qc.setQueryData(keys.settings, s);
    },
    // Refused or failed: show what is really saved.
    onError: () => void qc.invalidateQueries({ queryKey: keys.settings }),
  });
}
