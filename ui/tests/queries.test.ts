import { describe, expect, it } from "vitest";
import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { invalidateAccount, keys } from "../src/lib/queries";

/**
 * The engine answers a list request with what is committed when it reads; the answer reaches
 * the page later. A fill committed after that read is announced by a notice, which may arrive
 * while the answer is still on its way.
 */
function engine() {
  const committed: string[] = [];
  const pending: Array<() => void> = [];
  let reads = 0;
  return {
    committed,
    get reads() {
      return reads;
    },
    read: () => {
      reads += 1;
      const snapshot = [...committed];
      return new Promise<string[]>((resolve) => pending.push(() => resolve(snapshot)));
    },
    answerAll: () => {
      while (pending.length) pending.shift()?.();
    },
  };
}

async function settle(obs: QueryObserver<string[]>, e: ReturnType<typeof engine>) {
  for (let i = 0; i < 20; i++) {
    e.answerAll();
    await new Promise((r) => setTimeout(r, 0));
    if (obs.getCurrentResult().fetchStatus === "idle") return;
  }
}

/** The Fills list on screen, its first request sent. */
function fillsShown() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const e = engine();
  const obs = new QueryObserver<string[]>(qc, { queryKey: keys.fills, queryFn: e.read });
  const stop = obs.subscribe(() => {});
  return { qc, e, obs, stop };
}

describe("account lists follow the engine's notices", () => {
  it("a fill announced while the list's first answer is on its way is shown", async () => {
    const { qc, e, obs, stop } = fillsShown();
    // The Fills tab opens: its first request is read before the fill is committed...
    expect(e.reads).toBe(1);
    // ...the fill is committed and announced before that answer arrives.
    e.committed.push("fill 1");
    invalidateAccount(qc);
    await settle(obs, e);
    expect(obs.getCurrentResult().data).toEqual(["fill 1"]);
    expect(e.reads).toBe(2);
    stop();
  });

  it("a notice on a list already shown refetches it once", async () => {
    const { qc, e, obs, stop } = fillsShown();
    await settle(obs, e);
    expect(obs.getCurrentResult().data).toEqual([]);
    e.committed.push("fill 1");
    invalidateAccount(qc);
    await settle(obs, e);
    expect(obs.getCurrentResult().data).toEqual(["fill 1"]);
    expect(e.reads).toBe(2);
    stop();
  });
});
