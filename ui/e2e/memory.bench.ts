// Does the UI hold on to what the data stream sends it? The built UI in Chromium, fed by the
// shell's test double at a 10x-replay rate (a new 20-level book, a trade and the live bar every
// frame, the watchlist every 5th; the price climbing 5 ticks a second, so the page keeps seeing
// prices it has not shown before) with chart, book and tape on screen. Every 30 s it forces a
// full garbage collection and reads the JavaScript heap that is still live and the DOM's counts
// (nodes, listeners). After a minute's warm-up, none of them may keep rising: live data replaces
// what it shows, it does not pile up (the second half of the run against the first). Heap snapshots at the start and end of the measured window are
// compared by constructor, and the largest growers are printed (for whoever hunts a leak).
// Run: MEMORY_BENCH=1 [MEMORY_MINUTES=6] npx playwright test e2e/memory.bench.ts

import { test, expect, type CDPSession } from "@playwright/test";
import { writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { openWithDouble } from "./fixtures";

const here = dirname(fileURLToPath(import.meta.url));

test.skip(!process.env.MEMORY_BENCH, "a benchmark: set MEMORY_BENCH=1");

interface Sample {
  t_s: number;
  frames: number;
  heap_used: number;
  nodes: number;
  listeners: number;
}

/** Counts and retained-ish (self) sizes by constructor name, from a V8 heap snapshot. */
async function census(cdp: CDPSession): Promise<Map<string, { count: number; size: number }>> {
  const chunks: string[] = [];
  const onChunk = (d: { chunk: string }) => chunks.push(d.chunk);
  cdp.on("HeapProfiler.addHeapSnapshotChunk", onChunk);
  await cdp.send("HeapProfiler.collectGarbage");
  await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  cdp.off("HeapProfiler.addHeapSnapshotChunk", onChunk);
  const snap = JSON.parse(chunks.join("")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const stride = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + iType]];
    const name = type === "object" || type === "closure" ? snap.strings[snap.nodes[i + iName]] : `(${type})`;
    const key = `${type}:${name}`;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count += 1;
    e.size += snap.nodes[i + iSize];
    out.set(key, e);
  }
  return out;
}

test("the UI's memory stays flat under a 10x replay stream", async ({ page }) => {
  const minutes = Number(process.env.MEMORY_MINUTES ?? 6);
  test.setTimeout((minutes * 60 + 120) * 1000);
  // 60 frames/s: the shell batches a 10x replay into at most one frame per display frame.
  await openWithDouble(page, { frameRate: 60, liveCandles: true, driftTicksPerSec: 5 });
  await page.getByTestId("watch-PEPEUSDT").click();
  await expect(page.getByTestId("book-ladder")).toHaveAttribute("aria-label", /20 bids, 20 asks/);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.enable");
  const frames = () =>
    page.evaluate(() => (window as unknown as { __mock: { state: { channelIndex: number } } }).__mock.state.channelIndex);
  const samples: Sample[] = [];
  const t0 = Date.now();
  let first: Map<string, { count: number; size: number }> | null = null;
  const warmupS = 60;
  for (;;) {
    const t = (Date.now() - t0) / 1000;
    if (t > minutes * 60) break;
    await cdp.send("HeapProfiler.collectGarbage");
    const heap = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number };
    const dom = (await cdp.send("Memory.getDOMCounters")) as { nodes: number; jsEventListeners: number };
    samples.push({ t_s: Math.round(t), frames: await frames(), heap_used: heap.usedSize, nodes: dom.nodes, listeners: dom.jsEventListeners });
    console.log(JSON.stringify(samples[samples.length - 1]));
    if (first === null && t >= warmupS) first = await census(cdp);
    await page.waitForTimeout(30_000);
  }
  const last = await census(cdp);
  const grown = [...last.entries()]
    .map(([k, v]) => {
      const a = first?.get(k) ?? { count: 0, size: 0 };
      return { k, dcount: v.count - a.count, dsize: v.size - a.size };
    })
    .sort((x, y) => y.dsize - x.dsize)
    .slice(0, 15);
  console.log(JSON.stringify(grown));

  const after = samples.filter((s) => s.t_s >= warmupS);
  const base = after[0];
  const end = after[after.length - 1];
  const half = Math.floor(after.length / 2);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const early = after.slice(0, Math.max(1, half));
  const late = after.slice(half);
  const result = {
    minutes,
    frames_per_sec: +((end.frames - base.frames) / (end.t_s - base.t_s)).toFixed(1),
    heap_used_mib: { after_warmup: +(base.heap_used / 2 ** 20).toFixed(2), end: +(end.heap_used / 2 ** 20).toFixed(2), max: +(Math.max(...after.map((s) => s.heap_used)) / 2 ** 20).toFixed(2) },
    dom_nodes: { after_warmup: base.nodes, end: end.nodes },
    listeners: { after_warmup: base.listeners, end: end.listeners },
    samples,
    grown_by_constructor: grown,
  };
  mkdirSync(join(here, "../../bench/out"), { recursive: true });
  writeFileSync(join(here, "../../bench/out/ui-memory.json"), JSON.stringify(result, null, 2));
  // Flat: the live heap in the second half of the run within 1 MiB of the first half's (medians);
  // the DOM and its listeners no bigger than they already were (they vary with what is shown).
  expect(median(late.map((s) => s.heap_used)) - median(early.map((s) => s.heap_used))).toBeLessThan(2 ** 20);
  expect(Math.max(...late.map((s) => s.nodes))).toBeLessThanOrEqual(Math.max(...early.map((s) => s.nodes)) + 20);
  expect(Math.max(...late.map((s) => s.listeners))).toBeLessThanOrEqual(Math.max(...early.map((s) => s.listeners)) + 20);
  // And the stream really ran at a 10x-replay rate (a page that piles up slows down, too).
  expect(result.frames_per_sec).toBeGreaterThan(40);
});
