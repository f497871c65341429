import { test, expect, type Page } from "@playwright/test";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { instruments } from "./fixtures";

const here = dirname(fileURLToPath(import.meta.url));

async function open(page: Page) {
  await page.addInitScript(
    (p) => {
      (window as unknown as { __MOCK_PARAMS__: unknown }).__MOCK_PARAMS__ = p;
    },
    { instruments: instruments(), frameRate: 10 },
  );
  await page.addInitScript({ path: join(here, "mock-ipc.js") });
  await page.goto("/");
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
  await expect(page.getByTestId("template-grid").locator(".meme-thumb")).toHaveCount(3);
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
  const img = page.getByTestId("meme-preview");
  const box = (await img.boundingBox())!;
  await img.click({ position: { x: box.width * 0.25, y: box.height * 0.75 } });
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
