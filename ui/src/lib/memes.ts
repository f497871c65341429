// The meme editor's state, kept as plain data: what the user typed and placed, turned into the
// `MemeSpec` the shell renders. Pure functions, so they are tested without a shell.

import type { BoxFrame, MemeSpec, StickerSpec, TemplateView } from "../bindings";

export const SIZES: { id: string; label: string }[] = [
  { id: "original", label: "Original size" },
  { id: "square-1080", label: "Square 1080" },
  { id: "720", label: "720 px" },
  { id: "480", label: "480 px" },
];

export const FORMATS: { id: string; label: string }[] = [
  { id: "png", label: "PNG" },
  { id: "jpeg", label: "JPEG" },
  { id: "webp", label: "WebP" },
  { id: "gif", label: "GIF" },
];

/** Stickers offered in the picker (rendered from the bundled colour emoji font). */
export const STICKERS = ["🚀", "🌙", "💎", "🙌", "📈", "📉", "🔥", "💀", "🤡", "🐸", "🐶", "💸", "🐋", "🧻", "😭", "🤑"];

export interface Editor {
  template: string;
  captions: string[];
  stickers: StickerSpec[];
  size: string;
  /** The caption boxes as moved, resized, added or removed; `null`: the template's own. */
  frames: Frame[] | null;
}

/** A caption box in fractions of the image (a `BoxFrame` without the nulls IPC allows). */
export interface Frame {
  x: number;
  y: number;
  width: number;
  height: number;
  angle: number;
}

/** The most boxes a meme has, and the smallest a box may be (the renderer's rules). */
export const MAX_BOXES = 8;
export const MIN_BOX = 0.05;

export function emptyEditor(t: TemplateView | null): Editor {
  return { template: t?.id ?? "", captions: t ? Array(t.boxes).fill("") : [], stickers: [], size: "original", frames: null };
}

/** Switch template, keeping what was typed in the boxes both have (boxes are the new one's). */
export function withTemplate(e: Editor, t: TemplateView): Editor {
  const captions = Array.from({ length: t.boxes }, (_, i) => e.captions[i] ?? "");
  return { ...e, template: t.id, captions, frames: null };
}

function frameOf(b: BoxFrame): Frame {
  return { x: b.x ?? 0, y: b.y ?? 0, width: b.width ?? 1, height: b.height ?? 1, angle: b.angle ?? 0 };
}

/** The boxes the editor shows: the user's, else the template's. */
export function framesOf(e: Editor, t: TemplateView | undefined): Frame[] {
  if (e.frames) return e.frames;
  return (t?.frames ?? []).map(frameOf);
}

/** Keep a box whole inside the image and at least MIN_BOX on each side. */
export function fitFrame(f: Frame): Frame {
  const width = clamp(f.width, MIN_BOX, 1);
  const height = clamp(f.height, MIN_BOX, 1);
  return {
    x: clamp(f.x, 0, 1 - width),
    y: clamp(f.y, 0, 1 - height),
    width,
    height,
    angle: clamp(f.angle, -360, 360),
  };
}

/** Drag box `i` by (dx, dy) (fractions of the image); it stops at the edges. */
export function moveFrame(e: Editor, t: TemplateView | undefined, i: number, dx: number, dy: number): Editor {
  const frames = framesOf(e, t).slice();
  const f = frames[i];
  if (!f) return e;
  frames[i] = fitFrame({ ...f, x: clamp(f.x + dx, 0, 1 - f.width), y: clamp(f.y + dy, 0, 1 - f.height) });
  return { ...e, frames };
}

/** Drag box `i`'s bottom-right corner by (dw, dh); its top-left corner stays. */
export function resizeFrame(e: Editor, t: TemplateView | undefined, i: number, dw: number, dh: number): Editor {
  const frames = framesOf(e, t).slice();
  const f = frames[i];
  if (!f) return e;
  frames[i] = fitFrame({ ...f, width: clamp(f.width + dw, MIN_BOX, 1 - f.x), height: clamp(f.height + dh, MIN_BOX, 1 - f.y) });
  return { ...e, frames };
}

/** A new empty box across the middle (at most MAX_BOXES). */
export function addFrame(e: Editor, t: TemplateView | undefined): Editor {
  const frames = framesOf(e, t);
  if (frames.length >= MAX_BOXES) return e;
  const off = (frames.length % 4) * 0.05;
  const f = fitFrame({ x: 0.1, y: 0.4 + off, width: 0.8, height: 0.18, angle: 0 });
  return { ...e, frames: [...frames, f], captions: [...e.captions, ""] };
}

/** Remove box `i` and its caption (a meme keeps at least one box). */
export function removeFrame(e: Editor, t: TemplateView | undefined, i: number): Editor {
  const frames = framesOf(e, t);
  if (frames.length <= 1 || i < 0 || i >= frames.length) return e;
  return {
    ...e,
    frames: frames.filter((_, j) => j !== i),
    captions: e.captions.filter((_, j) => j !== i),
  };
}

/** Back to the template's boxes (captions past its box count are dropped). */
export function resetFrames(e: Editor, t: TemplateView | undefined): Editor {
  const n = t?.boxes ?? e.captions.length;
  return { ...e, frames: null, captions: Array.from({ length: n }, (_, i) => e.captions[i] ?? "") };
}

export function setCaption(e: Editor, i: number, text: string): Editor {
  if (i < 0 || i >= e.captions.length) return e;
  const captions = e.captions.slice();
  captions[i] = text;
  return { ...e, captions };
}

export function clamp(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo;
}

/** A new sticker lands in the middle, a fifth of the width; each next one a little lower-right. */
export function addSticker(e: Editor, emoji: string): Editor {
  const n = e.stickers.length;
  const off = (n % 5) * 0.06;
  return { ...e, stickers: [...e.stickers, { emoji, x: 0.5 + off, y: 0.5 + off, scale: 0.2, angle: 0 }] };
}

/** Move or resize a sticker, kept within what the renderer accepts. */
export function updateSticker(e: Editor, i: number, p: Partial<StickerSpec>): Editor {
  if (i < 0 || i >= e.stickers.length) return e;
  const s = { ...e.stickers[i]!, ...p };
  const fixed: StickerSpec = {
    emoji: s.emoji,
    // (f32 crosses IPC as `number | null`: a NaN would serialise as null.)
    x: clamp(s.x ?? Number.NaN, 0, 1),
    y: clamp(s.y ?? Number.NaN, 0, 1),
    scale: clamp(s.scale ?? Number.NaN, 0.02, 2),
    angle: clamp(s.angle ?? 0, -180, 180),
  };
  const stickers = e.stickers.slice();
  stickers[i] = fixed;
  return { ...e, stickers };
}

export function removeSticker(e: Editor, i: number): Editor {
  return { ...e, stickers: e.stickers.filter((_, j) => j !== i) };
}

/** What the shell renders. Trailing empty captions are kept (one per box). */
export function toSpec(e: Editor): MemeSpec & { stickers: StickerSpec[]; size: string } {
  const spec: MemeSpec & { stickers: StickerSpec[]; size: string } = {
    template: e.template,
    captions: e.captions.slice(),
    stickers: e.stickers.slice(),
    size: e.size,
  };
  if (e.frames) spec.frames = e.frames.map((f) => ({ ...f }));
  return spec;
}

/** A saved meme's edit, back in the editor (captions padded or cut to its boxes). */
export function fromSpec(spec: MemeSpec, t: TemplateView | undefined): Editor {
  const frames = spec.frames ? spec.frames.map(frameOf) : null;
  const boxes = frames?.length ?? t?.boxes ?? spec.captions.length;
  return {
    template: spec.template,
    captions: Array.from({ length: boxes }, (_, i) => spec.captions[i] ?? ""),
    stickers: (spec.stickers ?? []).slice(),
    size: spec.size ?? "original",
    frames,
  };
}

/** A stable key of a spec, to skip re-rendering what is already shown. */
export function specKey(s: MemeSpec): string {
  return JSON.stringify([
    s.template,
    s.captions,
    (s.stickers ?? []).map((x) => [x.emoji, x.x, x.y, x.scale, x.angle]),
    s.size,
    (s.frames ?? null)?.map((f) => [f.x, f.y, f.width, f.height, f.angle]) ?? null,
  ]);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Where the template's picture shows inside a `boxW`×`boxH` preview area (CSS `object-fit:
 *  contain`): the output is fitted in the area, and a square preset centres the picture in it. */
export function contentRect(
  boxW: number,
  boxH: number,
  imgW: number,
  imgH: number,
  square: boolean,
): { left: number; top: number; width: number; height: number } {
  const fit = (aw: number, ah: number, w: number, h: number) => {
    if (aw <= 0 || ah <= 0 || w <= 0 || h <= 0) return { left: 0, top: 0, width: 0, height: 0 };
    const s = Math.min(w / aw, h / ah);
    return { left: (w - aw * s) / 2, top: (h - ah * s) / 2, width: aw * s, height: ah * s };
  };
  const out = square ? fit(1, 1, boxW, boxH) : fit(imgW, imgH, boxW, boxH);
  if (!square) return out;
  const inner = fit(imgW, imgH, out.width, out.height);
  return { left: out.left + inner.left, top: out.top + inner.top, width: inner.width, height: inner.height };
}
