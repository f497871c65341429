// The meme editor's state, kept as plain data: what the user typed and placed, turned into the
// `MemeSpec` the shell renders. Pure functions, so they are tested without a shell.

import type { MemeSpec, StickerSpec, TemplateView } from "../bindings";

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
}

export function emptyEditor(t: TemplateView | null): Editor {
  return { template: t?.id ?? "", captions: t ? Array(t.boxes).fill("") : [], stickers: [], size: "original" };
}

/** Switch template, keeping what was typed in the boxes both have. */
export function withTemplate(e: Editor, t: TemplateView): Editor {
  const captions = Array.from({ length: t.boxes }, (_, i) => e.captions[i] ?? "");
  return { ...e, template: t.id, captions };
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
  return { template: e.template, captions: e.captions.slice(), stickers: e.stickers.slice(), size: e.size };
}

/** A saved meme's edit, back in the editor (captions padded or cut to the template's boxes). */
export function fromSpec(spec: MemeSpec, t: TemplateView | undefined): Editor {
  const boxes = t?.boxes ?? spec.captions.length;
  return {
    template: spec.template,
    captions: Array.from({ length: boxes }, (_, i) => spec.captions[i] ?? ""),
    stickers: (spec.stickers ?? []).slice(),
    size: spec.size ?? "original",
  };
}

/** A stable key of a spec, to skip re-rendering what is already shown. */
export function specKey(s: MemeSpec): string {
  return JSON.stringify([s.template, s.captions, (s.stickers ?? []).map((x) => [x.emoji, x.x, x.y, x.scale, x.angle]), s.size]);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
