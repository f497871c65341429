import { describe, expect, it } from "vitest";
import type { TemplateView } from "../src/bindings";
import {
  addSticker,
  emptyEditor,
  formatBytes,
  fromSpec,
  removeSticker,
  setCaption,
  specKey,
  toSpec,
  updateSticker,
  withTemplate,
} from "../src/lib/memes";

function tpl(id: string, boxes: number): TemplateView {
  return {
    id,
    name: id,
    keywords: [],
    tags: [],
    layout: "top-bottom",
    boxes,
    width: 800,
    height: 600,
    animated: false,
    user: false,
    license: "CC0-1.0",
    source: "test",
    examples: [],
  };
}

describe("meme editor", () => {
  it("has one caption per box and keeps typed text when the template changes", () => {
    let e = emptyEditor(tpl("a", 2));
    expect(e.captions).toEqual(["", ""]);
    e = setCaption(e, 0, "top");
    e = setCaption(e, 1, "bottom");
    e = setCaption(e, 5, "ignored");
    expect(e.captions).toEqual(["top", "bottom"]);
    const three = withTemplate(e, tpl("b", 3));
    expect(three.template).toBe("b");
    expect(three.captions).toEqual(["top", "bottom", ""]);
    const one = withTemplate(e, tpl("c", 1));
    expect(one.captions).toEqual(["top"]);
  });

  it("keeps stickers inside what the renderer accepts", () => {
    let e = addSticker(emptyEditor(tpl("a", 2)), "🚀");
    e = addSticker(e, "💎");
    expect(e.stickers).toHaveLength(2);
    expect(e.stickers[1]!.x ?? 0).toBeGreaterThan(e.stickers[0]!.x ?? 1);
    e = updateSticker(e, 0, { x: 7, y: -3, scale: 99, angle: 400 });
    expect(e.stickers[0]).toEqual({ emoji: "🚀", x: 1, y: 0, scale: 2, angle: 180 });
    e = updateSticker(e, 0, { scale: Number.NaN });
    expect(e.stickers[0]!.scale).toBe(0.02);
    e = removeSticker(e, 0);
    expect(e.stickers.map((s) => s.emoji)).toEqual(["💎"]);
  });

  it("round-trips through the spec the shell renders and saves", () => {
    let e = emptyEditor(tpl("a", 2));
    e = setCaption(e, 0, "wen lambo");
    e = addSticker(e, "🌙");
    e = { ...e, size: "square-1080" };
    const spec = toSpec(e);
    expect(spec).toEqual({
      template: "a",
      captions: ["wen lambo", ""],
      stickers: [{ emoji: "🌙", x: 0.5, y: 0.5, scale: 0.2, angle: 0 }],
      size: "square-1080",
    });
    expect(fromSpec(spec, tpl("a", 2))).toEqual(e);
    // A change of any part changes the key; the same edit gives the same key.
    expect(specKey(toSpec(e))).toBe(specKey(spec));
    expect(specKey(toSpec(setCaption(e, 1, "x")))).not.toBe(specKey(spec));
    expect(specKey(toSpec(updateSticker(e, 0, { x: 0.51 })))).not.toBe(specKey(spec));
  });

  it("formats file sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(20_480)).toBe("20 KB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MB");
  });
});
