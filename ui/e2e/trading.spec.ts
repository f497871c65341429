import { test, expect, type Page } from "@playwright/test";
import { openWithDouble } from "./fixtures";
import { askY, bidY, ladderLayout, ROW_H, SPREAD_H } from "../src/lib/ladder";

/** The test double's knobs: a market still working out its history, an account slow to load. */
interface Slow {
  historyPendingMs?: number;
  portfolioDelayMs?: number;
}

async function open(page: Page, frameRate = 10, slow: Slow = {}) {
  await openWithDouble(page, { frameRate, ...slow });
  await expect(page.getByTestId("watch-PEPEUSDT")).toBeVisible();
}

async function calls(page: Page, cmd: string): Promise<unknown[]> {
  return page.evaluate(
    (c) => (window as unknown as { __mock: { calls: { cmd: string; args: unknown }[] } }).__mock.calls.filter((x) => x.cmd === c).map((x) => x.args),
    cmd,
  );
}

test("select PEPE, place a limit buy, see it in open orders, cancel it", async ({ page }) => {
  await open(page);
  await page.getByTestId("watch-PEPEUSDT").click();
  await expect(page.getByTestId("chart-symbol")).toHaveText("PEPE/USDT");
  // Tiny prices are shown the way exchanges show them.
  await expect(page.getByTestId("watch-PEPEUSDT")).toContainText("0.0₄1234");
  await page.getByRole("tab", { name: "Limit", exact: true }).click();
  await page.getByLabel("Price").fill("0.00001200");
  await page.getByLabel("Quantity").fill("1000000");
  await expect(page.getByTestId("estimate")).toContainText("12.00 USDT");
  await page.getByTestId("submit").click();
  const row = page.getByTestId("open-orders").locator("tbody tr");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("PEPE/USDT");
  await expect(row).toContainText("0.0₄12");
  await expect(row).toContainText("1,000,000");
  const sent = (await calls(page, "submit_order")) as { ticket: Record<string, unknown> }[];
  expect(sent).toHaveLength(1);
  expect(sent[0]?.ticket).toMatchObject({
    symbol: "PEPEUSDT",
    side: "BUY",
    order_type: "LIMIT",
    price: "0.000012",
    quantity: "1000000",
    time_in_force: "GTC",
  });
  await page.getByRole("button", { name: /^Cancel order/ }).click();
  await expect(page.getByText("No open orders")).toBeVisible();
  expect(await calls(page, "cancel_order")).toEqual([{ orderId: 1 }]);
});

test("an invalid quantity shows the error and sends nothing", async ({ page }) => {
  await open(page);
  await page.getByTestId("watch-PEPEUSDT").click();
  await page.getByRole("tab", { name: "Limit", exact: true }).click();
  await page.getByLabel("Price").fill("0.00001200");
  await page.getByLabel("Quantity").fill("10.5");
  await expect(page.getByText("Must be a multiple of the lot step 1")).toBeVisible();
  await page.getByTestId("submit").click();
  await page.getByLabel("Quantity").fill("100");
  await expect(page.getByText(/below the minimum of 5 USDT/)).toBeVisible();
  await page.getByTestId("submit").click();
  await page.getByLabel("Price").fill("0.000012345");
  await expect(page.getByText("Must be a multiple of the tick size 0.00000001")).toBeVisible();
  await page.getByTestId("submit").click();
  expect(await calls(page, "submit_order")).toEqual([]);
  await expect(page.getByText("No open orders")).toBeVisible();
});

test("keyboard: S and B switch the ticket side and focus the amount, Esc clears it", async ({ page }) => {
  await open(page);
  await page.locator("body").press("s");
  await expect(page.getByTestId("submit")).toHaveText(/^Sell /);
  await expect(page.getByLabel("Quantity")).toBeFocused();
  await page.keyboard.type("42");
  await page.keyboard.press("Escape");
  await expect(page.getByLabel("Quantity")).toHaveValue("");
  await page.locator("body").press("b");
  await expect(page.getByTestId("submit")).toHaveText(/^Buy /);
});

test("the book ladder shows 20 levels a side with the spread, and a click sets the price", async ({ page }) => {
  await open(page);
  await page.getByTestId("watch-DOGEUSDT").click();
  const ladder = page.getByTestId("book-ladder");
  await expect(ladder).toHaveAttribute(
    "aria-label",
    /^Order book: 20 bids, 20 asks, best bid 0\.12344, best ask 0\.1234[5-9], spread /,
  );
  const box = await ladder.boundingBox();
  if (!box) throw new Error("the ladder is not on screen");
  const layout = ladderLayout(box.height);
  // Drawn as exchanges draw it: bids in green below the spread, asks in red above it.
  const tint = (y: number) =>
    ladder.evaluate((c: HTMLCanvasElement, y: number) => {
      const dpr = c.width / c.clientWidth;
      const d = c.getContext("2d")!.getImageData(0, Math.round(y * dpr), c.width, Math.round(18 * dpr)).data;
      let green = 0;
      let red = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] < 200) continue;
        if (d[i + 1] > d[i] + 60) green++;
        if (d[i] > d[i + 1] + 60) red++;
      }
      return { green, red };
    }, y);
  const bidTint = await tint(bidY(layout, 0));
  const askTint = await tint(askY(layout, 0));
  expect(bidTint.green).toBeGreaterThan(20);
  expect(bidTint.red).toBe(0);
  expect(askTint.red).toBeGreaterThan(20);
  expect(askTint.green).toBe(0);
  // A click on a level puts its price in the ticket; the spread row is not a level.
  await ladder.click({ position: { x: box.width / 2, y: bidY(layout, 0) + ROW_H / 2 } });
  await expect(page.getByLabel("Price")).toHaveValue("0.12344");
  await ladder.click({ position: { x: box.width / 2, y: layout.spreadY + SPREAD_H / 2 } });
  await expect(page.getByLabel("Price")).toHaveValue("0.12344");
  await ladder.click({ position: { x: 20, y: askY(layout, 0) + ROW_H / 2 } });
  await expect(page.getByLabel("Price")).not.toHaveValue("0.12344");
  await expect(page.getByLabel("Price")).toHaveValue(/^0\.1234[5-9]$/);
  // The light theme redraws it in its own colours: dark text on the light panel.
  const darkText = () =>
    ladder.evaluate((c: HTMLCanvasElement, y: number) => {
      const dpr = c.width / c.clientWidth;
      const d = c.getContext("2d")!.getImageData(0, Math.round(y * dpr), c.width, Math.round(18 * dpr)).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && d[i] + d[i + 1] + d[i + 2] < 240) n++;
      return n;
    }, bidY(layout, 0));
  expect(await darkText()).toBe(0);
  await page.getByRole("button", { name: "Toggle theme" }).click();
  await expect.poll(darkText).toBeGreaterThan(20);
});

test.describe("on a screen of double pixel density", () => {
  test.use({ deviceScaleFactor: 2 });
  test("the ladder is drawn at the screen's density, so its text is sharp", async ({ page }) => {
    await open(page);
    const ladder = page.getByTestId("book-ladder");
    await expect(ladder).toHaveAttribute("aria-label", /20 bids, 20 asks/);
    const [w, cssW, h, cssH] = await ladder.evaluate((c: HTMLCanvasElement) => [c.width, c.clientWidth, c.height, c.clientHeight]);
    expect(w).toBe(2 * cssW);
    expect(h).toBe(2 * cssH);
  });
});

test("large orders ask for confirmation first", async ({ page }) => {
  await open(page);
  await page.getByTestId("watch-DOGEUSDT").click();
  await page.getByRole("tab", { name: "Limit", exact: true }).click();
  await page.getByLabel("Price").fill("0.1");
  await page.getByLabel("Quantity").fill("20000");
  await page.getByTestId("submit").click();
  await expect(page.getByTestId("confirm")).toBeVisible();
  expect(await calls(page, "submit_order")).toEqual([]);
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("confirm")).toHaveCount(0);
  expect(await calls(page, "submit_order")).toEqual([]);
});

test("while a new simulator's history is worked out the chart says so, then draws it", async ({ page }) => {
  await open(page, 10, { historyPendingMs: 2500 });
  const overlay = page.locator(".chart-box .overlay");
  await expect(overlay).toHaveText("Working out the market's history…");
  await expect(overlay).toHaveCount(0, { timeout: 10_000 });
  // The chart drew its candles (lightweight-charts paints into canvases in the chart box).
  await expect(page.locator(".chart-box canvas").first()).toBeVisible();
});

test("the ticket shows no balance until the account has loaded, then the real one", async ({ page }) => {
  await open(page, 10, { portfolioDelayMs: 2500 });
  const available = page.getByTestId("available");
  await expect(available).toHaveText("—");
  await expect(available).toHaveText("10,000.00 USDT", { timeout: 10_000 });
});

test("the pair chosen is saved, and a theme toggle keeps it", async ({ page }) => {
  await open(page);
  // The saved settings (the test double's) open the app on DOGE.
  await expect(page.getByTestId("chart-symbol")).toHaveText("DOGE/USDT");
  await page.getByTestId("watch-PEPEUSDT").click();
  await expect(page.getByTestId("chart-symbol")).toHaveText("PEPE/USDT");
  await expect.poll(async () => ((await calls(page, "update_settings")) as { settings: { symbol: string } }[]).at(-1)?.settings.symbol).toBe("PEPEUSDT");
  await page.getByRole("button", { name: "Toggle theme" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  const last = ((await calls(page, "update_settings")) as { settings: { symbol: string; theme: string } }[]).at(-1);
  expect(last?.settings).toMatchObject({ theme: "light", symbol: "PEPEUSDT" });
  // Still on PEPE a moment later: the saved answer does not send the chart back to DOGE.
  await page.waitForTimeout(500);
  await expect(page.getByTestId("chart-symbol")).toHaveText("PEPE/USDT");
});
