import { test, expect, type Page } from "@playwright/test";
import { openWithDouble } from "./fixtures";

async function open(page: Page, extra: Record<string, unknown> = {}) {
  await openWithDouble(page, { frameRate: 10, ...extra });
  await expect(page.getByTestId("watch-PEPEUSDT")).toBeVisible();
  await page.getByTestId("screen-memes").click();
  await expect(page.getByTestId("meme-studio")).toBeVisible();
}

type Call = { cmd: string; args: Record<string, unknown> };
async function calls(page: Page, cmd: string): Promise<Record<string, unknown>[]> {
  return page.evaluate(
    (c) => (window as unknown as { __mock: { calls: Call[] } }).__mock.calls.filter((x) => x.cmd === c).map((x) => x.args),
    cmd,
  );
}

test("search a template, caption it, add a sticker, save it to the gallery, delete it", async ({ page }) => {
  await open(page);
  await expect(page.getByTestId("template-grid").locator(".meme-thumb")).toHaveCount(4);
  await page.getByLabel("Search templates").fill("cat");
  await expect(page.getByTestId("template-grid").locator(".meme-thumb")).toHaveCount(1);
  await page.getByTestId("template-cat-stare").click();
  await expect(page.getByTestId("meme-template-name")).toHaveText("Cat stare");
  // One caption field per text box of the template.
  await expect(page.getByLabel(/^Caption \d$/)).toHaveCount(1);
  await page.getByLabel("Caption 1").fill("me watching PEPE at 3am");
  await page.getByLabel("Add sticker 🚀").click();
  // The preview is what the shell rendered from the spec (debounced: one render for the typing).
  await expect(page.getByTestId("meme-preview")).toHaveAttribute("src", /PEPE%20at%203am/);
  await expect(page.getByTestId("meme-preview")).toHaveAttribute("src", /%F0%9F%9A%80/);
  const previews = await calls(page, "meme_preview");
  expect(previews.length).toBeLessThan(8);
  expect(previews.at(-1)).toMatchObject({
    spec: { template: "cat-stare", captions: ["me watching PEPE at 3am"], size: "original", stickers: [{ emoji: "🚀" }] },
  });
  // Clicking the picture moves the selected sticker there.
  const layer = page.getByTestId("box-layer");
  const box = (await layer.boundingBox())!;
  // The layer covers the picture itself (900×830 here), not the letterboxed area around it.
  expect(Math.abs(box.width / box.height - 900 / 830)).toBeLessThan(0.01);
  await layer.click({ position: { x: box.width * 0.25, y: box.height * 0.75 } });
  await expect
    .poll(async () => {
      const last = (await calls(page, "meme_preview")).at(-1) as { spec: { stickers: { x: number; y: number }[] } };
      return [Math.round(last.spec.stickers[0]!.x * 100), Math.round(last.spec.stickers[0]!.y * 100)];
    })
    .toEqual([25, 75]);

  await page.getByLabel("Format").selectOption("jpeg");
  await page.getByLabel("Export size").selectOption("square-1080");
  await page.getByTestId("meme-save").click();
  const saved = await calls(page, "meme_save");
  expect(saved).toHaveLength(1);
  expect(saved[0]).toMatchObject({ format: "jpeg", spec: { template: "cat-stare", size: "square-1080" } });
  const item = page.getByTestId("gallery").locator(".gallery-item");
  await expect(item).toHaveCount(1);
  await expect(item).toContainText("me watching PEPE at 3am");
  await expect(item).toContainText("JPEG");

  await page.getByLabel("Search memes").fill("doge");
  await expect(item).toHaveCount(0);
  await page.getByLabel("Search memes").fill("pepe");
  await expect(item).toHaveCount(1);

  await item.getByRole("button", { name: /Delete meme/ }).click();
  await page.getByTestId("confirm").getByRole("button", { name: "Delete" }).click();
  await expect(item).toHaveCount(0);
  expect(await calls(page, "meme_delete")).toEqual([{ id: 1 }]);
});

test("switching templates keeps the captions typed; a saved meme reopens in the editor", async ({ page }) => {
  await open(page);
  await page.getByTestId("template-rocket-launch").click();
  await page.getByLabel("Caption 1").fill("wen");
  await page.getByLabel("Caption 2").fill("lambo");
  await page.getByTestId("meme-save").click();
  await expect(page.getByTestId("gallery").locator(".gallery-item")).toHaveCount(1);
  await page.getByTestId("template-cat-stare").click();
  await expect(page.getByLabel("Caption 1")).toHaveValue("wen");
  await expect(page.getByLabel(/^Caption \d$/)).toHaveCount(1);
  // A look at the market and back: the edit is still there.
  await page.getByTestId("screen-trade").click();
  await expect(page.getByTestId("meme-studio")).toBeHidden();
  await page.getByTestId("screen-memes").click();
  await expect(page.getByLabel("Caption 1")).toHaveValue("wen");
  await expect(page.getByTestId("meme-template-name")).toHaveText("Cat stare");
  await page.getByTestId("gallery").getByRole("button", { name: "Edit" }).click();
  await expect(page.getByTestId("meme-template-name")).toHaveText("Rocket launch");
  await expect(page.getByLabel("Caption 2")).toHaveValue("lambo");
  // Tag chips filter the grid.
  await page.getByRole("button", { name: "reaction", exact: true }).click();
  await expect(page.getByTestId("template-grid").locator(".meme-thumb")).toHaveCount(1);
});

test("an error from the renderer is shown, not swallowed", async ({ page }) => {
  await open(page);
  await page.evaluate(() => {
    const w = window as unknown as { __TAURI_INTERNALS__: { invoke: (c: string, a: unknown) => Promise<unknown> } };
    const orig = w.__TAURI_INTERNALS__.invoke.bind(w.__TAURI_INTERNALS__);
    w.__TAURI_INTERNALS__.invoke = (c, a) =>
      c === "meme_preview" ? Promise.reject({ code: "meme.bad_input", message: "caption 1 is longer than 500 characters" }) : orig(c, a);
  });
  await page.getByLabel("Caption 1").fill("x".repeat(600));
  await expect(page.getByTestId("meme-studio")).toContainText("longer than 500 characters");
});

test("drag and resize a text box, add one, remove one; the render gets the boxes", async ({ page }) => {
  await open(page);
  await page.getByTestId("template-rocket-launch").click();
  await page.getByLabel("Caption 1").fill("wen");
  const layer = page.getByTestId("box-layer");
  const area = (await layer.boundingBox())!;
  const top = page.getByTestId("box-0");
  const b = (await top.boundingBox())!;
  // The overlay shows the template's box where it is: x 4 %, y 2 %, 92 % × 22 %.
  expect(Math.round(((b.x - area.x) / area.width) * 100)).toBe(4);
  expect(Math.round((b.width / area.width) * 100)).toBe(92);
  // Drag it down by a quarter of the picture's height.
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2 + area.height * 0.125, { steps: 4 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2 + area.height * 0.25, { steps: 4 });
  await page.mouse.up();
  type Spec = { spec: { frames?: { x: number; y: number; width: number; height: number }[]; captions: string[] } };
  const last = async () => (await calls(page, "meme_preview")).at(-1) as Spec;
  await expect.poll(async () => Math.round(((await last()).spec.frames?.[0]?.y ?? 0) * 100)).toBe(27);
  // Resize it from its corner: 20 % narrower; its left edge stays.
  const h = (await page.getByTestId("box-0-resize").boundingBox())!;
  await page.mouse.move(h.x + h.width / 2, h.y + h.height / 2);
  await page.mouse.down();
  await page.mouse.move(h.x + h.width / 2 - area.width * 0.2, h.y + h.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => Math.round(((await last()).spec.frames?.[0]?.width ?? 0) * 100)).toBe(72);
  expect(Math.round(((await last()).spec.frames?.[0]?.x ?? 0) * 100)).toBe(4);
  // A box dragged past the edge stops at it.
  const b2 = (await page.getByTestId("box-1").boundingBox())!;
  await page.mouse.move(b2.x + 10, b2.y + 10);
  await page.mouse.down();
  await page.mouse.move(b2.x + 10, b2.y + 10 + area.height, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => {
    const f = (await last()).spec.frames?.[1];
    return f ? Math.round((f.y + f.height) * 1000) : 0;
  }).toBe(1000);
  // A third box, with its own caption; then the first one removed.
  await page.getByTestId("add-box").click();
  await expect(page.getByTestId("box-2")).toBeVisible();
  await page.getByLabel("Caption 3").fill("lambo");
  await expect.poll(async () => (await last()).spec.captions).toEqual(["wen", "", "lambo"]);
  expect((await last()).spec.frames).toHaveLength(3);
  await page.getByLabel("Remove text box 1").click();
  await expect.poll(async () => (await last()).spec.captions).toEqual(["", "lambo"]);
  expect((await last()).spec.frames).toHaveLength(2);
  // A bundled template's boxes belong to this meme only: nothing offers to save them into it.
  await expect(page.getByTestId("save-boxes")).toHaveCount(0);
  // Reset: the template's boxes again, no frames sent.
  await page.getByTestId("reset-boxes").click();
  await expect.poll(async () => (await last()).spec.frames ?? null).toBeNull();
  await expect(page.getByLabel(/^Caption \d$/)).toHaveCount(2);
  // Saved with its boxes; reopened with them.
  await page.getByTestId("add-box").click();
  await page.getByTestId("meme-save").click();
  const saved = (await calls(page, "meme_save")).at(-1) as Spec;
  expect(saved.spec.frames).toHaveLength(3);
  await page.getByTestId("template-cat-stare").click();
  await expect(page.getByTestId("box-1")).toHaveCount(0);
  await page.getByTestId("gallery").getByRole("button", { name: "Edit" }).click();
  await expect(page.getByTestId("box-2")).toBeVisible();
});

test("boxes drawn on an imported template are saved into it; copy puts the meme on the clipboard", async ({ page }) => {
  await open(page);
  await page.getByTestId("template-my-dog").click();
  await page.getByTestId("add-box").click();
  await page.getByTestId("save-boxes").click();
  expect((await calls(page, "meme_template_boxes")).at(-1)).toMatchObject({ id: "my-dog", frames: [{}, {}, {}] });
  // The template now has three boxes of its own: the edit is back on "the template's boxes".
  await expect(page.getByTestId("save-boxes")).toHaveCount(0);
  await expect(page.getByTestId("box-2")).toBeVisible();
  await expect(page.getByTestId("template-my-dog")).toHaveAttribute("title", /3 text boxes/);
  await page.getByLabel("Caption 1").fill("good boy");
  await page.getByTestId("meme-copy").click();
  await expect(page.locator(".toast").filter({ hasText: "Copied" })).toBeVisible();
  const copied = await page.evaluate(() => (window as unknown as { __mock: { state: { clipboard: unknown } } }).__mock.state.clipboard);
  expect(copied).toMatchObject({ spec: { template: "my-dog", captions: ["good boy", "", ""] } });
});

test("a closed trade in the fills makes a meme: its card, copied and saved", async ({ page }) => {
  const fill = {
    id: 7,
    order_id: 3,
    symbol: "DOGEUSDT",
    side: "SELL",
    price: "0.0875",
    quantity: "1000",
    quote_quantity: "87.5",
    fee: "0.0875",
    fee_asset: "USDT",
    is_maker: false,
    time_ms: Date.UTC(2025, 0, 2, 0, 0, 0),
  };
  await open(page, { fills: [fill] });
  await page.getByTestId("screen-trade").click();
  await page.getByRole("tab", { name: /Fills/ }).click();
  await page.getByTestId("meme-fill-7").click();
  await expect(page.getByTestId("meme-studio")).toBeVisible();
  const card = page.getByTestId("trade-card");
  await expect(card).toContainText("closed DOGE/USDT trade");
  await expect(card).toContainText("-12.50%");
  expect(await calls(page, "meme_for_trade")).toEqual([{ fillId: 7, seed: 0 }]);
  await page.getByTestId("trade-copy").click();
  await expect(page.locator(".toast").filter({ hasText: "Copied" })).toBeVisible();
  await page.getByTestId("trade-save").click();
  await expect(page.getByTestId("gallery").locator(".gallery-item")).toHaveCount(1);
  expect((await calls(page, "meme_trade_save")).at(-1)).toMatchObject({ trade: { fill_id: 7, symbol: "DOGEUSDT" } });
});
