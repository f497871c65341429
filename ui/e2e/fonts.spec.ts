import { test, expect, type CDPSession, type Page } from "@playwright/test";
import { openWithDouble } from "./fixtures";

// Every character the app writes is drawn with its own fonts (src/fonts, made by
// scripts/ui_fonts.py). A character they lack makes the webview search the system's fonts for it:
// the digits of a tiny price (0.0₄1234) came out in another typeface than the rest of the price,
// a different one on every machine, and each font found that way is loaded into the web process
// for good (seven of them in WebKit, docs/desktop-memory.md "Ninth pass").

interface FontUse {
  familyName: string;
  isCustomFont: boolean;
  glyphCount: number;
}

type DomNode = { nodeId: number; nodeName: string; children?: DomNode[] };

const OWN = new Set(["Inter", "Inter SemiBold", "JetBrains Mono"]);

/** Fonts not our own, each with a few of the elements whose text used it. */
async function foreignFonts(cdp: CDPSession): Promise<Map<string, string[]>> {
  const { root } = (await cdp.send("DOM.getDocument", { depth: -1 })) as { root: DomNode };
  const out = new Map<string, string[]>();
  const walk = async (n: DomNode, path: string): Promise<void> => {
    if (n.nodeName === "#text" || n.nodeName === "#comment") return;
    const at = `${path} > ${n.nodeName.toLowerCase()}`;
    if (n.nodeId && n.nodeName !== "#document") {
      let fonts: FontUse[];
      try {
        ({ fonts } = (await cdp.send("CSS.getPlatformFontsForNode", { nodeId: n.nodeId })) as { fonts: FontUse[] });
      } catch (e) {
        // The live book and tape replace their rows while the walk goes on.
        if (String(e).includes("find node")) return;
        throw e;
      }
      for (const f of fonts) {
        if (f.isCustomFont && OWN.has(f.familyName)) continue;
        const key = `${f.familyName}${f.isCustomFont ? "" : " (system)"}`;
        const where = out.get(key) ?? [];
        if (where.length < 3) where.push(at.slice(-80));
        out.set(key, where);
      }
    }
    for (const c of n.children ?? []) await walk(c, at);
  };
  await walk(root, "");
  return out;
}

async function open(page: Page): Promise<CDPSession> {
  await openWithDouble(page, { frameRate: 10 });
  // A tiny price with its subscript, the book and the tape are on screen.
  await expect(page.getByTestId("watch-PEPEUSDT")).toContainText("0.0₄");
  await expect(page.getByTestId("book-ladder")).toHaveAttribute("aria-label", /20 bids/);
  await page.evaluate(() => document.fonts.ready);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("DOM.enable");
  await cdp.send("CSS.enable");
  return cdp;
}

test("the trading screen, in both themes, and its dialogs use only the app's fonts", async ({ page }) => {
  const cdp = await open(page);
  expect(Object.fromEntries(await foreignFonts(cdp))).toEqual({});

  await page.getByRole("button", { name: "Toggle theme" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  expect(Object.fromEntries(await foreignFonts(cdp))).toEqual({});

  await page.getByTestId("source-button").click();
  await expect(page.getByRole("dialog")).toBeVisible();
  expect(Object.fromEntries(await foreignFonts(cdp))).toEqual({});
  await page.keyboard.press("Escape");

  await page.getByTitle("About PaperMemes").click();
  await expect(page.getByRole("dialog")).toBeVisible();
  expect(Object.fromEntries(await foreignFonts(cdp))).toEqual({});
});
