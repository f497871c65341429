// End to end on the real app (release build, real engine, real ledger) under Xvfb, driven
// through tauri-driver the way a person would: start on the bundled replay, buy at market, see
// the fill, the position and its PnL move; quit, start again, everything is still there.
//
// Run: xvfb-run -a node --test tests/e2e/   (PAPERMEMES_APP = the app binary,
// TAURI_DRIVER = tauri-driver, SCREENSHOTS = a folder to save screenshots in)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawn } from "node:child_process";
import { startDriver, Session } from "./webdriver.mjs";

const root = resolve(import.meta.dirname, "../..");
const app =
  process.env.PAPERMEMES_APP ??
  join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), "release/papermemes-desktop");
const shots = process.env.SCREENSHOTS;
const dataDir = mkdtempSync(join(tmpdir(), "papermemes-e2e-"));
let driver;

async function shot(s, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  writeFileSync(join(shots, name), await s.screenshot());
}

async function open() {
  const s = await Session.start(app);
  try {
    await s.setSize(1440, 900);
    // The market is ready when the watchlist shows prices.
    await s.waitFor('[data-testid="watch-DOGEUSDT"]', "the watchlist", { timeoutMs: 60_000, pred: (t) => /\d/.test(t) && !t.includes("—") });
    return s;
  } catch (e) {
    await shot(s, "failed-open.png").catch(() => {});
    await s.end();
    throw e;
  }
}

/** The meme preview's data URL once it differs from `before` and has not changed for 1 s. */
async function stablePreview(s, before) {
  const src = () => s.exec(`const i = document.querySelector('[data-testid="meme-preview"]'); return i ? i.getAttribute('src') : null`);
  let last = null;
  let since = Date.now();
  return s.waitUntil(async () => {
    const now = await src();
    if (!now || now === before) return undefined;
    if (now !== last) {
      last = now;
      since = Date.now();
      return undefined;
    }
    return Date.now() - since >= 1000 ? now : undefined;
  }, "the preview to settle", 60_000);
}

/** Make sure the bundled replay is the market (the first test's DOGE position lives there). */
async function onReplay(s) {
  await (await s.find('[data-testid="screen-trade"]'))[0].click();
  const source = await s.waitFor('[data-testid="source-button"]', "the market source");
  if (!(await source.text()).includes("Replay")) {
    await s.clickText('.segmented[aria-label="Market"] button', "Replay");
    await s.waitFor('[data-testid="source-button"]', "the replay", { timeoutMs: 90_000, pred: (t) => t.includes("Replay") });
  }
}

async function tab(s, label) {
  const tabs = await s.find('.bottom-panel [role="tab"]');
  for (const t of tabs) {
    if ((await t.text()).startsWith(label)) return t.click();
  }
  throw new Error(`no tab ${label}`);
}

before(async () => {
  assert.ok(existsSync(app), `the app binary ${app} exists (build it with tauri build)`);
  // Open on the replay of real bundled candles, DOGE selected, running fast enough that a
  // 5-minute bar passes every second.
  writeFileSync(
    join(dataDir, "settings.toml"),
    '[desktop]\nmarket = "replay"\nsymbol = "DOGEUSDT"\ninterval = "5m"\nspeed = 300.0\nnotify_fills = false\n',
  );
  driver = await startDriver({ PAPERMEMES_DATA_DIR: dataDir, LANG: "C.UTF-8" });
});

after(async () => {
  await driver?.stop();
});

test("a market buy on the replay fills, the position's PnL moves, and all of it survives a restart", async () => {
  let s = await open();
  let fillText;
  try {
    await s.waitFor('[data-testid="feed-state"]', "the market to run", { pred: (t) => t === "Running" });
    const header = await s.waitFor('[data-testid="source-button"]', "the source", { pred: (t) => t.includes("Replay") });
    assert.match(await header.text(), /5m candles/);
    await s.clickText(".kind-tabs button", "Market");
    const qty = (await s.find('input[aria-label="Quantity"]'))[0];
    await qty.type("1000");
    const submit = (await s.find('[data-testid="submit"]'))[0];
    assert.equal(await submit.text(), "Buy DOGE");
    await submit.click();

    // The fill arrives (committed by the engine), then the position.
    await tab(s, "Fills");
    const fill = await s.waitFor('[data-testid="fills"] tbody tr', "the fill", { pred: (t) => t.includes("DOGE/USDT") && t.includes("BUY") });
    fillText = await fill.text();
    assert.match(fillText, /1,000/);
    await tab(s, "Positions");
    const pos = await s.waitFor('[data-testid="position-DOGEUSDT"]', "the DOGE position");
    assert.match(await pos.text(), /1,000/);
    const upnl = async () => (await s.find('[data-testid="position-DOGEUSDT"] [data-testid="upnl"]'))[0]?.text();
    const first = await upnl();
    await s.waitUntil(async () => {
      const now = await upnl();
      return now && now !== first ? now : undefined;
    }, `the unrealized PnL to move from ${first}`, 60_000);
    await shot(s, "trading-replay.png");
    // Quit while the market runs.
  } finally {
    await s.end();
  }

  // Start again: the position, the fill and the order are still there.
  s = await open();
  try {
    await tab(s, "Positions");
    const pos = await s.waitFor('[data-testid="position-DOGEUSDT"]', "the DOGE position after a restart");
    assert.match(await pos.text(), /1,000/);
    await tab(s, "Fills");
    const fill = await s.waitFor('[data-testid="fills"] tbody tr', "the fill after a restart");
    assert.equal(await fill.text(), fillText);
    await tab(s, "Order history");
    const order = await s.waitFor('[data-testid="order-history"] tbody tr', "the order after a restart");
    assert.match(await order.text(), /filled/);
  } finally {
    await s.end();
  }
});

test("the simulator shows a live book and tape, and a limit order rests and is cancelled", async () => {
  const s = await open();
  try {
    await s.clickText('.segmented[aria-label="Market"] button', "Simulator");
    await s.waitFor('[data-testid="source-button"]', "the simulator", { timeoutMs: 90_000, pred: (t) => t.includes("Simulator") });
    await s.waitFor('[data-testid="watch-PEPEUSDT"]', "PEPE in the watchlist", { timeoutMs: 60_000, pred: (t) => t.includes("0.0₄") });
    await (await s.find('[data-testid="watch-PEPEUSDT"]'))[0].click();
    const ladder = () => s.exec(`return document.querySelector('[data-testid="book-ladder"]')?.getAttribute("aria-label") ?? ""`);
    await s.waitUntil(async () => /^Order book: 20 bids, 20 asks, best bid /.test(await ladder()), "20 levels a side");
    await s.waitFor('[data-testid="trades"] .tape-row', "trades on the tape");
    await shot(s, "trading-sim.png");
    // The light theme and the market-source dialog open (and give the README its pictures).
    const theme = () => s.exec("return document.documentElement.dataset.theme");
    await (await s.find('button[aria-label="Toggle theme"]'))[0].click();
    await s.waitUntil(async () => (await theme()) === "light", "the light theme");
    await shot(s, "trading-light.png");
    await (await s.find('button[aria-label="Toggle theme"]'))[0].click();
    await s.waitUntil(async () => (await theme()) === "dark", "the dark theme again");
    await (await s.find('[data-testid="source-button"]'))[0].click();
    await s.waitFor('[role="dialog"]', "the market source dialog");
    await shot(s, "market-source.png");
    await (await s.find('[role="dialog"] button[aria-label="Close"]'))[0].click();
    await s.waitUntil(async () => (await s.find('[role="dialog"]')).length === 0, "the dialog closed");
    await s.clickText(".kind-tabs button", "Limit");
    // Click the deepest bid on screen (the ladder's geometry: ui/src/lib/ladder.ts): its price
    // goes into the ticket.
    const [x, y] = await s.exec(`
      const r = document.querySelector('[data-testid="book-ladder"]').getBoundingClientRect();
      const spreadY = Math.floor((r.height - 26) / 2);
      const shown = Math.min(20, Math.floor((r.height - spreadY - 26) / 18));
      return [r.left + r.width / 2, r.top + spreadY + 26 + (shown - 1) * 18 + 9];`);
    await s.clickAt(x, y);
    const price = await s.waitUntil(async () => {
      const v = await (await s.find('input[aria-label="Price"]'))[0].value();
      return /^0\.0000\d+$/.test(v) ? v : null;
    }, "a bid's price in the ticket");
    assert.ok(Number(price) > 0, "a bid price");
    const qty = (await s.find('input[aria-label="Quantity"]'))[0];
    await qty.type("1000000");
    await (await s.find('[data-testid="submit"]'))[0].click();
    await tab(s, "Open orders");
    const row = await s.waitFor('[data-testid="open-orders"] tbody tr', "the resting order");
    assert.match(await row.text(), /PEPE\/USDT/);
    const cancel = (await s.find('[data-testid="open-orders"] button[aria-label^="Cancel order"]'))[0];
    await cancel.click();
    await s.waitFor(".tab-body .empty", "no open orders", { pred: (t) => t.includes("No open orders") });
  } finally {
    await s.end();
  }
});

test("the meme studio captions a template, the preview is the saved file, and a position makes a PnL card", async () => {
  const s = await open();
  try {
    await (await s.find('[data-testid="screen-memes"]'))[0].click();
    await s.waitUntil(async () => ((await s.find(".meme-thumb")).length >= 40 ? true : undefined), "the template library (40+)", 60_000);
    const search = (await s.find('input[aria-label="Search templates"]'))[0];
    await search.type("cat");
    await s.waitUntil(async () => {
      const n = (await s.find(".meme-thumb")).length;
      return n > 0 && n < 40 ? n : undefined;
    }, "search results for cat");
    await (await s.find('[data-testid="template-cat-stare"]'))[0].click();
    const src = () => s.exec(`const i = document.querySelector('[data-testid="meme-preview"]'); return i ? i.getAttribute('src') : null`);
    const blank = await s.waitUntil(async () => ((await src())?.startsWith("data:image/png;base64,") ? await src() : undefined), "the first preview");
    const caption = (await s.find('textarea[aria-label="Caption 1"]'))[0];
    await caption.type("me watching PEPE at 3am");
    // The preview follows the typing (debounced): wait until it shows the whole caption, i.e.
    // until it stops changing.
    const captioned = await stablePreview(s, blank);
    await shot(s, "meme-studio.png");
    await (await s.find('[data-testid="meme-save"]'))[0].click();
    await s.waitFor('[data-testid="gallery"] .gallery-item', "the saved meme in the gallery", { pred: (t) => t.includes("900×") });
    await shot(s, "meme-gallery.png");
    const title = await s.exec(`return document.querySelector('[data-testid="gallery"] .gallery-title').textContent`);
    assert.equal(title, "me watching PEPE at 3am");
    // The gallery file is byte for byte the PNG the preview showed (rendered in Rust both times).
    const { readdirSync, readFileSync } = await import("node:fs");
    const files = readdirSync(join(dataDir, "memes")).filter((f) => f.endsWith(".png"));
    assert.equal(files.length, 1);
    const saved = readFileSync(join(dataDir, "memes", files[0]));
    const shown = Buffer.from(captioned.slice("data:image/png;base64,".length), "base64");
    assert.ok(saved.equals(shown), "the saved file equals the preview");

    // "Meme…" on the DOGE position bought on the replay in the first test: a PnL card, saved
    // to the gallery.
    await onReplay(s);
    await tab(s, "Positions");
    await s.waitFor('[data-testid="meme-DOGEUSDT"]', "the Meme button of the DOGE position");
    await (await s.find('[data-testid="meme-DOGEUSDT"]'))[0].click();
    await s.waitFor('[data-testid="trade-card"]', "the trade card", { pred: (t) => t.includes("DOGE/USDT") && t.includes("%") });
    await s.waitUntil(async () => (await s.exec(`const i = document.querySelector('[data-testid="trade-preview"]'); return i && i.naturalWidth > 0 ? i.naturalHeight : null`)) ?? undefined, "the PnL card preview", 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    await shot(s, "meme-trade-card.png");
    await (await s.find('[data-testid="trade-save"]'))[0].click();
    await s.waitUntil(async () => ((await s.find('[data-testid="gallery"] .gallery-item')).length === 2 ? true : undefined), "two memes in the gallery");
  } finally {
    await s.end();
  }
});

/** The image on the X clipboard (read with xclip, as a paste would): its PNG size. */
async function clipboardPng() {
  const { execFileSync } = await import("node:child_process");
  const png = execFileSync("xclip", ["-selection", "clipboard", "-t", "image/png", "-o"], { timeout: 10_000 });
  assert.equal(png.subarray(1, 4).toString(), "PNG", "the clipboard holds a PNG");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

test("text boxes move with the mouse, memes go to the clipboard, and a closed trade makes a card", async () => {
  const s = await open();
  try {
    // Close the DOGE position bought in the first test: a sell at market.
    await onReplay(s);
    await tab(s, "Positions");
    await s.waitFor('[data-testid="position-DOGEUSDT"]', "the DOGE position");
    await s.clickText('[data-testid="position-DOGEUSDT"] button', "Close…");
    const submit = await s.waitFor('[data-testid="submit"]', "the sell ticket", { pred: (t) => t === "Sell DOGE" });
    await submit.click();
    await tab(s, "Fills");
    await s.waitFor('[data-testid="fills"] tbody tr', "the sell fill", { pred: (t) => t.includes("SELL") });
    const meme = await s.waitFor('[data-testid^="meme-fill-"]', "Meme… on the sell");
    await meme.click();
    await s.waitFor('[data-testid="trade-card"]', "the closed trade's card", { pred: (t) => t.includes("closed DOGE/USDT trade") && t.includes("%") });
    const card = await s.waitUntil(
      async () => s.exec(`const i = document.querySelector('[data-testid="trade-preview"]'); return i && i.naturalWidth > 0 ? [i.naturalWidth, i.naturalHeight] : null`),
      "the card's preview",
      60_000,
    );
    await (await s.find('[data-testid="trade-copy"]'))[0].click();
    await s.waitFor(".toast", "the copied notice", { pred: (t) => t.includes("Copied") });
    assert.deepEqual(await clipboardPng(), { width: card[0], height: card[1] }, "the card is on the clipboard");
    await (await s.find('[data-testid="trade-save"]'))[0].click();
    await s.waitUntil(async () => ((await s.find('[data-testid="gallery"] .gallery-item')).length === 3 ? true : undefined), "the card in the gallery");
    await (await s.find('button[aria-label="Close the trade meme"]'))[0].click();

    // Drag the top text box of a two-box template down a quarter of the picture.
    await (await s.find('[data-testid="template-rocket-launch"]'))[0].click();
    const src = () => s.exec(`const i = document.querySelector('[data-testid="meme-preview"]'); return i ? i.getAttribute('src') : null`);
    const caption = (await s.find('textarea[aria-label="Caption 1"]'))[0];
    await caption.type("WEN LAMBO");
    await s.waitFor('[data-testid="box-0"]', "the text boxes over the preview");
    const before = await stablePreview(s, null);
    const rect = (sel) => s.exec(`const r = document.querySelector('${sel}').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]`);
    const layer = await rect('[data-testid="box-layer"]');
    const top0 = await rect('[data-testid="box-0"]');
    await s.drag(top0[0] + top0[2] / 2, top0[1] + top0[3] / 2, 0, Math.round(layer[3] * 0.25));
    const moved = await s.waitUntil(async () => {
      const r = await rect('[data-testid="box-0"]');
      return r[1] - top0[1] > layer[3] * 0.2 ? r : undefined;
    }, "the box to follow the mouse");
    const yFrac = (moved[1] - layer[1]) / layer[3];
    assert.ok(Math.abs(yFrac - ((top0[1] - layer[1]) / layer[3] + 0.25)) < 0.02, `box moved to y=${yFrac}`);
    await s.waitUntil(async () => {
      const now = await src();
      return now && now !== before ? true : undefined;
    }, "the preview re-rendered with the moved box");
    await s.waitFor('[data-testid="reset-boxes"]', "Reset boxes");
    await shot(s, "meme-boxes.png");
    // Copy: the clipboard has the meme at the template's size.
    const size = await s.exec(`const i = document.querySelector('[data-testid="meme-preview"]'); return [i.naturalWidth, i.naturalHeight]`);
    await (await s.find('[data-testid="meme-copy"]'))[0].click();
    await s.waitUntil(async () => {
      const c = await clipboardPng().catch(() => null);
      return c && c.width === size[0] && c.height === size[1] ? true : undefined;
    }, "the meme on the clipboard");
    // Saved and reopened: the box is where it was moved.
    await (await s.find('[data-testid="meme-save"]'))[0].click();
    await s.waitUntil(async () => ((await s.find('[data-testid="gallery"] .gallery-item')).length === 4 ? true : undefined), "the meme in the gallery");
    await (await s.find('[data-testid="template-cat-stare"]'))[0].click();
    await s.waitUntil(async () => ((await s.find('[data-testid="box-1"]')).length === 0 ? true : undefined), "the other template's boxes");
    await s.clickText('[data-testid="gallery"] .gallery-item:first-child button', "Edit");
    await s.waitFor('[data-testid="meme-template-name"]', "the reopened meme", { pred: (t) => t === "Rocket launch" });
    const again = await s.waitUntil(async () => {
      const l = await rect('[data-testid="box-layer"]');
      const r = await rect('[data-testid="box-0"]');
      return l[3] > 0 ? (r[1] - l[1]) / l[3] : undefined;
    }, "the reopened box");
    assert.ok(Math.abs(again - yFrac) < 0.02, `reopened at y=${again}, moved to ${yFrac}`);
  } finally {
    await s.end();
  }
});

test("started without a graphical session, the app says why and exits, touching nothing", async () => {
  const env = { ...process.env, PAPERMEMES_DATA_DIR: join(dataDir, "never-made") };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  delete env.GDK_BACKEND;
  const child = spawn(app, [], { env, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise((r) => child.on("exit", (c) => r(c)));
  assert.equal(code, 2, `exit code (stderr: ${err})`);
  assert.match(err, /cannot open its window: no graphical session/);
  assert.doesNotMatch(err, /panicked/);
  assert.ok(!existsSync(join(dataDir, "never-made")), "no data folder was made");
});
