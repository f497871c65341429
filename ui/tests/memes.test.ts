import { describe, expect, it } from "vitest";
import type { TemplateView } from "../src/bindings";
import {
  MAX_BOXES,
  addFrame,
  addSticker,
  contentRect,
  emptyEditor,
  framesOf,
  moveFrame,
  removeFrame,
  resetFrames,
  resizeFrame,
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
    frames: Array.from({ length: boxes }, (_, i) => ({ x: 0.04, y: i === 0 ? 0.02 : 0.76, width: 0.92, height: 0.22, angle: 0 })),
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

  it("moves and resizes boxes inside the picture and keeps them big enough", () => {
    const t = tpl("a", 2);
    let e = emptyEditor(t);
    expect(e.frames).toBeNull();
    expect(framesOf(e, t)).toHaveLength(2);
    e = moveFrame(e, t, 0, 0.1, 0.25);
    expect(e.frames?.[0]).toMatchObject({ y: 0.27, width: 0.92 });
    // x stops at 1 - width (0.08); y at 0.
    e = moveFrame(e, t, 0, 0.5, -2);
    expect(e.frames?.[0]?.x).toBeCloseTo(0.08, 6);
    expect(e.frames?.[0]?.y).toBe(0);
    // The other box did not move.
    expect(e.frames?.[1]).toEqual({ x: 0.04, y: 0.76, width: 0.92, height: 0.22, angle: 0 });
    // Resizing keeps the top-left corner; the box ends at the edge and is never under 5 %.
    e = resizeFrame(e, t, 1, 0.5, 0.5);
    expect(e.frames?.[1]).toMatchObject({ x: 0.04, y: 0.76 });
    expect(e.frames![1]!.x + e.frames![1]!.width).toBeCloseTo(1, 6);
    expect(e.frames![1]!.y + e.frames![1]!.height).toBeCloseTo(1, 6);
    e = resizeFrame(e, t, 1, -5, -5);
    expect(e.frames?.[1]).toMatchObject({ width: 0.05, height: 0.05 });
    // Out-of-range index: nothing changes.
    expect(moveFrame(e, t, 9, 0.1, 0.1)).toBe(e);
  });

  it("adds and removes boxes with their captions, and resets to the template's", () => {
    const t = tpl("a", 2);
    let e = setCaption(setCaption(emptyEditor(t), 0, "top"), 1, "bottom");
    e = addFrame(e, t);
    expect(e.captions).toEqual(["top", "bottom", ""]);
    expect(framesOf(e, t)).toHaveLength(3);
    e = removeFrame(e, t, 0);
    expect(e.captions).toEqual(["bottom", ""]);
    expect(e.frames?.[0]?.y).toBe(0.76);
    e = removeFrame(removeFrame(e, t, 0), t, 0);
    expect(e.frames).toHaveLength(1);
    expect(e.captions).toEqual([""]);
    for (let i = 0; i < 20; i++) e = addFrame(e, t);
    expect(e.frames).toHaveLength(MAX_BOXES);
    expect(e.captions).toHaveLength(MAX_BOXES);
    e = resetFrames(setCaption(e, 0, "kept"), t);
    expect(e.frames).toBeNull();
    expect(e.captions).toEqual(["kept", ""]);
    // Moved boxes go to the shell, are part of the key, and come back from a saved spec.
    const moved = moveFrame(emptyEditor(t), t, 1, 0, -0.5);
    const spec = toSpec(moved);
    expect(spec.frames?.[1]?.y).toBeCloseTo(0.26, 6);
    expect(specKey(spec)).not.toBe(specKey(toSpec(emptyEditor(t))));
    expect(fromSpec(spec, t)).toEqual(moved);
    // Another template starts from its own boxes.
    expect(withTemplate(moved, tpl("b", 1)).frames).toBeNull();
  });

  it("finds the picture inside the preview area, square presets included", () => {
    // An 800×600 picture in a 1000×500 area: height-bound, centred.
    const h = contentRect(1000, 500, 800, 600, false);
    expect(h.left).toBeCloseTo(166.667, 2);
    expect(h.top).toBe(0);
    expect(h.width).toBeCloseTo(666.667, 2);
    expect(h.height).toBe(500);
    // As a square: a 500×500 square in the middle, the picture 500×375 centred in it.
    const r = contentRect(1000, 500, 800, 600, true);
    expect(r.left).toBeCloseTo(250, 6);
    expect(r.top).toBeCloseTo(62.5, 6);
    expect(r.width).toBeCloseTo(500, 6);
    expect(r.height).toBeCloseTo(375, 6);
    expect(contentRect(0, 0, 800, 600, false)).toEqual({ left: 0, top: 0, width: 0, height: 0 });
  });
});
