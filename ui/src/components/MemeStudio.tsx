import { useEffect, useMemo, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { GalleryView, TemplateView, TradeMemeView } from "../bindings";
import { api, errorMessage } from "../lib/ipc";
import {
  FORMATS,
  MAX_BOXES,
  SIZES,
  STICKERS,
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
  type Editor,
  type Frame,
} from "../lib/memes";
import { useUi, type MemeTrade } from "../lib/store";
import { pairName } from "../lib/format";
import { toast } from "./Toasts";
import { Confirm } from "./Dialog";

const memeKeys = {
  templates: (search: string, tag: string | null) => ["meme", "templates", search, tag] as const,
  tags: ["meme", "tags"] as const,
  thumb: (id: string) => ["meme", "thumb", id] as const,
  gallery: (search: string) => ["meme", "gallery", search] as const,
  galleryImage: (id: number) => ["meme", "gallery-image", id] as const,
};

/** Calls `render` with the latest value `delay` ms after it stops changing; drops stale answers. */
function useDebouncedRender<T>(key: string, value: T | null, delay: number, render: (v: T) => Promise<string>) {
  const [image, setImage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  useEffect(() => {
    if (value === null) return;
    const my = ++seq.current;
    setBusy(true);
    const t = setTimeout(() => {
      render(value)
        .then((url) => {
          if (my !== seq.current) return;
          setImage(url);
          setError(null);
        })
        .catch((e: unknown) => {
          if (my === seq.current) setError(errorMessage(e));
        })
        .finally(() => {
          if (my === seq.current) setBusy(false);
        });
    }, delay);
    return () => clearTimeout(t);
    // `key` stands for `value`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return { image, error, busy };
}

function Thumb({ t, selected, onPick }: { t: TemplateView; selected: boolean; onPick: () => void }) {
  const q = useQuery({ queryKey: memeKeys.thumb(t.id), queryFn: () => api.memeThumbnail(t.id), staleTime: Infinity });
  return (
    <button
      className={`meme-thumb ${selected ? "selected" : ""}`}
      onClick={onPick}
      title={`${t.name} · ${t.boxes} text box${t.boxes === 1 ? "" : "es"}${t.animated ? " · animated" : ""}`}
      data-testid={`template-${t.id}`}
      aria-pressed={selected}
    >
      {q.data ? <img src={q.data} alt="" loading="lazy" /> : <span className="meme-thumb-empty">{q.isError ? "!" : ""}</span>}
      <span className="meme-thumb-name">
        {t.name}
        {t.animated && <span className="badge">GIF</span>}
        {t.user && <span className="badge">mine</span>}
      </span>
    </button>
  );
}

function GalleryItem({ g, onOpen, onDelete }: { g: GalleryView; onOpen: () => void; onDelete: () => void }) {
  const q = useQuery({
    queryKey: memeKeys.galleryImage(g.id),
    queryFn: () => api.memeGalleryImage(g.id),
    staleTime: Infinity,
    enabled: g.exists,
  });
  return (
    <div className="gallery-item" data-testid={`gallery-${g.id}`}>
      {q.data ? <img src={q.data} alt={g.title} /> : <div className="meme-thumb-empty">{g.exists ? "" : "file missing"}</div>}
      <div className="gallery-title" title={g.title}>
        {g.title}
      </div>
      <div className="gallery-meta muted">
        {g.format.toUpperCase()} · {g.width}×{g.height} · {formatBytes(g.bytes)}
      </div>
      <div className="gallery-actions">
        {!g.from_trade && (
          <button className="btn btn-ghost small" onClick={onOpen}>
            Edit
          </button>
        )}
        <button className="btn btn-ghost small" onClick={onDelete} aria-label={`Delete meme ${g.id}`}>
          Delete
        </button>
      </div>
    </div>
  );
}

function TradeCard({ trade, onClose }: { trade: MemeTrade; onClose: () => void }) {
  const qc = useQueryClient();
  const [seed, setSeed] = useState(0);
  const [view, setView] = useState<TradeMemeView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const tradeKey = trade.kind === "trade" ? `fill-${trade.fillId}` : `pos-${trade.symbol}`;
  useEffect(() => {
    let live = true;
    setView(null);
    const load = trade.kind === "trade" ? api.memeForTrade(trade.fillId, seed) : api.memeForPosition(trade.symbol, seed);
    load
      .then((v) => live && (setView(v), setLoadError(null)))
      .catch((e: unknown) => live && setLoadError(errorMessage(e)));
    return () => {
      live = false;
    };
    // `tradeKey` stands for `trade`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tradeKey, seed]);
  const key = view ? JSON.stringify([view.template, view.captions, view.exit_price]) : "";
  const preview = useDebouncedRender(key, view, 150, (v) => api.memeTradePreview(v));
  const save = async () => {
    if (!view) return;
    try {
      const g = await api.memeTradeSave(view);
      toast({ kind: "info", title: "Saved to the gallery", body: g.path });
      void qc.invalidateQueries({ queryKey: ["meme", "gallery"] });
    } catch (e) {
      toast({ kind: "error", title: "Cannot save the meme", body: errorMessage(e) });
    }
  };
  const copy = async () => {
    if (!view) return;
    try {
      await api.memeTradeCopy(view);
      toast({ kind: "info", title: "Copied", body: "The card is on the clipboard: paste it anywhere." });
    } catch (e) {
      toast({ kind: "error", title: "Cannot copy the card", body: errorMessage(e) });
    }
  };
  const what = trade.kind === "trade" ? `closed ${pairName(trade.symbol)} trade` : `${pairName(trade.symbol)} position`;
  return (
    <section className="panel trade-card" data-testid="trade-card">
      <div className="panel-head">
        <span>
          Meme of your {what}
          {view && (
            <span className={(view.change_pct ?? 0) >= 0 ? "up" : "down"}>
              {" "}
              {(view.change_pct ?? 0) >= 0 ? "+" : ""}
              {(view.change_pct ?? 0).toFixed(2)}%
            </span>
          )}
        </span>
        <button className="icon-btn" aria-label="Close the trade meme" onClick={onClose}>
          ×
        </button>
      </div>
      {loadError && <div className="error-text">{loadError}</div>}
      {view && (
        <div className="trade-card-body">
          <div className="meme-preview small">
            {preview.image && <img src={preview.image} alt="PnL card preview" data-testid="trade-preview" />}
          </div>
          <div className="trade-card-form">
            {view.captions.map((c, i) => (
              <label key={i} className="field">
                <span>Caption {i + 1}</span>
                <input
                  value={c}
                  onChange={(e) => {
                    const captions = view.captions.slice();
                    captions[i] = e.target.value;
                    setView({ ...view, captions });
                  }}
                />
              </label>
            ))}
            <div className="row">
              <button className="btn btn-ghost" onClick={() => setSeed((s) => s + 1)}>
                Another template
              </button>
              <button className="btn btn-ghost" onClick={() => void copy()} data-testid="trade-copy">
                Copy
              </button>
              <button className="btn btn-primary" onClick={() => void save()} data-testid="trade-save">
                Save card
              </button>
            </div>
            {preview.error && <div className="error-text">{preview.error}</div>}
          </div>
        </div>
      )}
    </section>
  );
}

/** The live preview with the caption boxes over it: drag a box to move it, its corner to
 *  resize it; with a sticker selected, a click places the sticker. */
function Stage({
  image,
  template,
  frames,
  square,
  selected,
  placing,
  showBoxes,
  onSelect,
  onMove,
  onResize,
  onPlace,
  empty,
}: {
  empty: string;
  image: string | null;
  template: TemplateView | undefined;
  frames: Frame[];
  square: boolean;
  selected: number | null;
  placing: boolean;
  showBoxes: boolean;
  onSelect: (i: number) => void;
  onMove: (i: number, dx: number, dy: number) => void;
  onResize: (i: number, dw: number, dh: number) => void;
  onPlace: (x: number, y: number) => void;
}) {
  const area = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    const measure = () => setSize({ w: el.clientWidth - 20, h: el.clientHeight - 20 });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const rect = template ? contentRect(size.w, size.h, template.width, template.height, square) : null;
  // A drag in progress: which box, what it does, where the pointer was last.
  const drag = useRef<{ i: number; mode: "move" | "resize"; x: number; y: number } | null>(null);
  const start = (ev: React.PointerEvent, i: number, mode: "move" | "resize") => {
    if (placing) return;
    ev.stopPropagation();
    ev.preventDefault();
    (ev.currentTarget as HTMLElement).setPointerCapture?.(ev.pointerId);
    drag.current = { i, mode, x: ev.clientX, y: ev.clientY };
    onSelect(i);
  };
  const move = (ev: React.PointerEvent) => {
    const d = drag.current;
    if (!d || !rect || rect.width <= 0 || rect.height <= 0) return;
    const dx = (ev.clientX - d.x) / rect.width;
    const dy = (ev.clientY - d.y) / rect.height;
    if (dx === 0 && dy === 0) return;
    drag.current = { ...d, x: ev.clientX, y: ev.clientY };
    if (d.mode === "move") onMove(d.i, dx, dy);
    else onResize(d.i, dx, dy);
  };
  const end = () => {
    drag.current = null;
  };
  const click = (ev: React.MouseEvent<HTMLDivElement>) => {
    if (!placing || !rect || rect.width <= 0) return;
    const r = ev.currentTarget.getBoundingClientRect();
    const x = (ev.clientX - r.left) / r.width;
    const y = (ev.clientY - r.top) / r.height;
    if (x >= 0 && x <= 1 && y >= 0 && y <= 1) onPlace(x, y);
  };
  return (
    <div className="meme-preview" ref={area}>
      {image ? <img src={image} alt="Meme preview" data-testid="meme-preview" /> : <div className="muted">{empty}</div>}
      {image && rect && (
        <div
          className={`box-layer ${placing ? "placing" : ""}`}
          data-testid="box-layer"
          style={{ left: rect.left + 10, top: rect.top + 10, width: rect.width, height: rect.height }}
          onClick={click}
          onPointerMove={move}
          onPointerUp={end}
          onPointerCancel={end}
        >
          {showBoxes &&
            frames.map((f, i) => (
              <div
                key={i}
                className={`text-box ${selected === i ? "selected" : ""}`}
                data-testid={`box-${i}`}
                style={{
                  left: `${f.x * 100}%`,
                  top: `${f.y * 100}%`,
                  width: `${f.width * 100}%`,
                  height: `${f.height * 100}%`,
                  transform: f.angle ? `rotate(${f.angle}deg)` : undefined,
                  pointerEvents: placing ? "none" : undefined,
                }}
                onPointerDown={(ev) => start(ev, i, "move")}
                title="Drag to move this text box; drag its corner to resize it"
              >
                <span className="text-box-label">{i + 1}</span>
                <span
                  className="text-box-handle"
                  data-testid={`box-${i}-resize`}
                  onPointerDown={(ev) => start(ev, i, "resize")}
                  aria-label={`Resize text box ${i + 1}`}
                />
              </div>
            ))}
        </div>
      )}
    </div>
  );
}

export function MemeStudio({ hidden = false }: { hidden?: boolean }) {
  const qc = useQueryClient();
  const memeTrade = useUi((s) => s.memeTrade);
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState<string | null>(null);
  const [gallerySearch, setGallerySearch] = useState("");
  const [format, setFormat] = useState("png");
  const [editor, setEditor] = useState<Editor>(emptyEditor(null));
  const [selectedSticker, setSelectedSticker] = useState<number | null>(null);
  const [selectedBox, setSelectedBox] = useState<number | null>(null);
  const [showBoxes, setShowBoxes] = useState(true);
  const [confirmDelete, setConfirmDelete] = useState<number | null>(null);
  const [importName, setImportName] = useState("");

  const templates = useQuery({
    queryKey: memeKeys.templates(search.trim(), tag),
    queryFn: () => api.memeTemplates(search.trim() || null, tag),
    placeholderData: (prev) => prev,
  });
  const allTemplates = useQuery({ queryKey: memeKeys.templates("", null), queryFn: () => api.memeTemplates(null, null) });
  const tags = useQuery({ queryKey: memeKeys.tags, queryFn: () => api.memeTags() });
  const gallery = useQuery({
    queryKey: memeKeys.gallery(gallerySearch.trim()),
    queryFn: () => api.memeGallery(gallerySearch.trim() || null),
    placeholderData: (prev) => prev,
  });

  const byId = useMemo(() => new Map((allTemplates.data ?? []).map((t) => [t.id, t])), [allTemplates.data]);
  const current = byId.get(editor.template);

  // Start on the first template.
  useEffect(() => {
    if (!editor.template && allTemplates.data && allTemplates.data.length > 0) {
      setEditor(emptyEditor(allTemplates.data[0]!));
    }
  }, [allTemplates.data, editor.template]);

  const spec = editor.template ? toSpec(editor) : null;
  const preview = useDebouncedRender(spec ? specKey(spec) : "", spec, 120, (s) => api.memePreview(s));

  const frames = framesOf(editor, current);

  const pick = (t: TemplateView) => {
    setEditor((e) => (e.template ? withTemplate(e, t) : emptyEditor(t)));
    setSelectedSticker(null);
    setSelectedBox(null);
  };

  const copy = async () => {
    if (!spec) return;
    try {
      await api.memeCopy(spec);
      toast({
        kind: "info",
        title: "Copied",
        body: current?.animated ? "The first frame is on the clipboard (export a GIF for the animation)." : "The meme is on the clipboard: paste it anywhere.",
      });
    } catch (e) {
      toast({ kind: "error", title: "Cannot copy the meme", body: errorMessage(e) });
    }
  };

  const saveBoxes = async () => {
    if (!current || !editor.frames) return;
    try {
      const t = await api.memeTemplateBoxes(current.id, editor.frames);
      qc.setQueryData(memeKeys.templates("", null), (old: TemplateView[] | undefined) => old?.map((x) => (x.id === t.id ? t : x)));
      void qc.invalidateQueries({ queryKey: ["meme", "templates"] });
      void qc.invalidateQueries({ queryKey: memeKeys.thumb(t.id) });
      setEditor((e) => ({ ...e, frames: null }));
      toast({ kind: "info", title: `Saved the boxes of “${t.name}”`, body: `${t.boxes} text box${t.boxes === 1 ? "" : "es"}; new memes from it start with them.` });
    } catch (e) {
      toast({ kind: "error", title: "Cannot save the boxes", body: errorMessage(e) });
    }
  };

  const save = async () => {
    if (!spec) return;
    try {
      const g = await api.memeSave(spec, format);
      toast({ kind: "info", title: "Saved to the gallery", body: `${g.width}×${g.height} ${g.format.toUpperCase()}` });
      void qc.invalidateQueries({ queryKey: ["meme", "gallery"] });
    } catch (e) {
      toast({ kind: "error", title: "Cannot save the meme", body: errorMessage(e) });
    }
  };

  const exportFile = async () => {
    if (!spec) return;
    try {
      const path = await api.memeExport(spec, format);
      if (path) toast({ kind: "info", title: "Exported", body: path });
    } catch (e) {
      toast({ kind: "error", title: "Cannot export the meme", body: errorMessage(e) });
    }
  };

  const importImage = async () => {
    const name = importName.trim();
    if (!name) {
      toast({ kind: "error", title: "Name the template first", body: "Type a name, then choose the image." });
      return;
    }
    try {
      const t = await api.memeImport({ path: "", name, keywords: [] });
      if (!t) return;
      setImportName("");
      void qc.invalidateQueries({ queryKey: ["meme", "templates"] });
      void qc.invalidateQueries({ queryKey: memeKeys.tags });
      setEditor(emptyEditor(t));
      toast({ kind: "info", title: `Imported “${t.name}”`, body: "Top and bottom captions; type away." });
    } catch (e) {
      toast({ kind: "error", title: "Cannot import the image", body: errorMessage(e) });
    }
  };

  const openSaved = async (id: number) => {
    try {
      const s = await api.memeOpen(id);
      setEditor(fromSpec(s, byId.get(s.template)));
    } catch (e) {
      toast({ kind: "error", title: "Cannot open the meme", body: errorMessage(e) });
    }
  };

  const remove = async (id: number) => {
    setConfirmDelete(null);
    try {
      await api.memeDelete(id);
      void qc.invalidateQueries({ queryKey: ["meme", "gallery"] });
    } catch (e) {
      toast({ kind: "error", title: "Cannot delete the meme", body: errorMessage(e) });
    }
  };

  // Clicking the picture places the selected sticker there.
  const placeSticker = (x: number, y: number) => {
    if (selectedSticker === null) return;
    setEditor((e) => updateSticker(e, selectedSticker, { x, y }));
  };

  return (
    <main className="memes" data-testid="meme-studio" hidden={hidden}>
      <section className="panel meme-library">
        <div className="panel-head">
          <span>Templates</span>
          <span className="muted">{templates.data?.length ?? ""}</span>
        </div>
        <input
          className="search"
          placeholder="Search templates (rocket, cat, rekt…)"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          aria-label="Search templates"
        />
        <div className="chips" role="group" aria-label="Tags">
          <button className={`chip ${tag === null ? "active" : ""}`} onClick={() => setTag(null)}>
            all
          </button>
          {(tags.data ?? []).map((t) => (
            <button key={t} className={`chip ${tag === t ? "active" : ""}`} onClick={() => setTag(tag === t ? null : t)}>
              {t}
            </button>
          ))}
        </div>
        <div className="meme-grid" data-testid="template-grid">
          {templates.isError && <div className="error-text">{errorMessage(templates.error)}</div>}
          {templates.data?.length === 0 && <div className="muted empty">No template matches “{search}”.</div>}
          {(templates.data ?? []).map((t) => (
            <Thumb key={t.id} t={t} selected={t.id === editor.template} onPick={() => pick(t)} />
          ))}
        </div>
        <div className="import-row">
          <input
            placeholder="New template name"
            value={importName}
            onChange={(e) => setImportName(e.target.value)}
            aria-label="New template name"
          />
          <button className="btn btn-ghost" onClick={() => void importImage()} title="Turn your own image or GIF into a template">
            Import image…
          </button>
        </div>
      </section>

      <section className="meme-center">
        {memeTrade && <TradeCard trade={memeTrade} onClose={() => useUi.getState().setMemeTrade(null)} />}
        <section className="panel meme-stage">
          <div className="panel-head">
            <span data-testid="meme-template-name">{current ? current.name : "Choose a template"}</span>
            <span className="muted">
              {preview.busy ? "rendering…" : current ? `${current.width}×${current.height}${current.animated ? " · animated: GIF export keeps the animation" : ""}` : ""}
            </span>
          </div>
          <Stage
            image={preview.image}
            template={current}
            frames={frames}
            square={editor.size.startsWith("square-")}
            selected={selectedBox}
            placing={selectedSticker !== null}
            showBoxes={showBoxes}
            onSelect={setSelectedBox}
            onMove={(i, dx, dy) => setEditor((e) => moveFrame(e, current, i, dx, dy))}
            onResize={(i, dw, dh) => setEditor((e) => resizeFrame(e, current, i, dw, dh))}
            onPlace={placeSticker}
            empty={preview.error ?? "Loading…"}
          />

          {preview.error && preview.image && <div className="error-text">{preview.error}</div>}
        </section>
      </section>

      <section className="panel meme-editor">
        <div className="panel-head">
          <span>Captions</span>
          <label className="check" title="Show the text boxes over the picture (drag to move, corner to resize)">
            <input type="checkbox" checked={showBoxes} onChange={(e) => setShowBoxes(e.target.checked)} aria-label="Show text boxes" />
            boxes
          </label>
        </div>
        {editor.captions.map((c, i) => (
          <div className={`field caption-field ${selectedBox === i ? "selected" : ""}`} key={i}>
            <span className="caption-head">
              <span>Text {i + 1}</span>
              {frames.length > 1 && (
                <button
                  className="icon-btn"
                  aria-label={`Remove text box ${i + 1}`}
                  title="Remove this text box"
                  onClick={() => {
                    setEditor((ed) => removeFrame(ed, current, i));
                    setSelectedBox(null);
                  }}
                >
                  ×
                </button>
              )}
            </span>
            <textarea
              rows={2}
              value={c}
              placeholder={current?.examples[0]?.[i] ?? ""}
              onFocus={() => setSelectedBox(i)}
              onChange={(e) => setEditor((ed) => setCaption(ed, i, e.target.value))}
              aria-label={`Caption ${i + 1}`}
            />
          </div>
        ))}
        <div className="row wrap">
          <button
            className="btn btn-ghost small"
            onClick={() => {
              setEditor((ed) => addFrame(ed, current));
              setSelectedBox(frames.length);
            }}
            disabled={!current || frames.length >= MAX_BOXES}
            data-testid="add-box"
          >
            + Text box
          </button>
          {editor.frames && (
            <button className="btn btn-ghost small" onClick={() => setEditor((ed) => resetFrames(ed, current))} data-testid="reset-boxes">
              Reset boxes
            </button>
          )}
          {editor.frames && current?.user && (
            <button
              className="btn btn-ghost small"
              onClick={() => void saveBoxes()}
              title="Keep these boxes in your template"
              data-testid="save-boxes"
            >
              Save boxes to template
            </button>
          )}
        </div>
        <div className="panel-head sub">
          <span>Stickers</span>
        </div>
        <div className="sticker-picker" role="group" aria-label="Add a sticker">
          {STICKERS.map((s) => (
            <button
              key={s}
              className="sticker-btn"
              onClick={() => {
                setEditor((e) => addSticker(e, s));
                setSelectedSticker(editor.stickers.length);
              }}
              aria-label={`Add sticker ${s}`}
            >
              {s}
            </button>
          ))}
        </div>
        {editor.stickers.map((s, i) => (
          <div key={i} className={`sticker-row ${selectedSticker === i ? "selected" : ""}`} onClick={() => setSelectedSticker(i)}>
            <span className="sticker-emoji">{s.emoji}</span>
            <label title="Size">
              size
              <input
                type="range"
                aria-label={`Size of sticker ${s.emoji}`}
                min={0.05}
                max={1}
                step={0.01}
                value={s.scale ?? 0.2}
                onChange={(e) => setEditor((ed) => updateSticker(ed, i, { scale: Number(e.target.value) }))}
              />
            </label>
            <label title="Rotation">
              turn
              <input
                type="range"
                aria-label={`Rotation of sticker ${s.emoji}`}
                min={-180}
                max={180}
                step={1}
                value={s.angle ?? 0}
                onChange={(e) => setEditor((ed) => updateSticker(ed, i, { angle: Number(e.target.value) }))}
              />
            </label>
            <button
              className="icon-btn"
              aria-label={`Remove sticker ${s.emoji}`}
              onClick={(e) => {
                e.stopPropagation();
                setEditor((ed) => removeSticker(ed, i));
                setSelectedSticker(null);
              }}
            >
              ×
            </button>
          </div>
        ))}
        {editor.stickers.length > 0 && <div className="muted hint">Click the picture to move the selected sticker there.</div>}
        <div className="panel-head sub">
          <span>Export</span>
        </div>
        <label className="field">
          <span>Size</span>
          <select value={editor.size} onChange={(e) => setEditor((ed) => ({ ...ed, size: e.target.value }))} aria-label="Export size">
            {SIZES.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Format</span>
          <select value={format} onChange={(e) => setFormat(e.target.value)} aria-label="Format">
            {FORMATS.map((f) => (
              <option key={f.id} value={f.id}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <div className="row">
          <button className="btn btn-primary" onClick={() => void save()} disabled={!spec} data-testid="meme-save">
            Save to gallery
          </button>
          <button className="btn btn-ghost" onClick={() => void exportFile()} disabled={!spec}>
            Export…
          </button>
          <button className="btn btn-ghost" onClick={() => void copy()} disabled={!spec} data-testid="meme-copy">
            Copy
          </button>
        </div>
      </section>

      <section className="panel meme-gallery">
        <div className="panel-head">
          <span>Gallery</span>
          <input
            className="search small"
            placeholder="Search memes"
            value={gallerySearch}
            onChange={(e) => setGallerySearch(e.target.value)}
            aria-label="Search memes"
          />
        </div>
        <div className="gallery-strip" data-testid="gallery">
          {gallery.data?.length === 0 && (
            <div className="muted empty">{gallerySearch ? "No saved meme matches." : "Saved memes appear here."}</div>
          )}
          {(gallery.data ?? []).map((g) => (
            <GalleryItem key={g.id} g={g} onOpen={() => void openSaved(g.id)} onDelete={() => setConfirmDelete(g.id)} />
          ))}
        </div>
      </section>
      {confirmDelete !== null && (
        <Confirm
          title="Delete this meme?"
          confirmLabel="Delete"
          danger
          onConfirm={() => void remove(confirmDelete)}
          onCancel={() => setConfirmDelete(null)}
        >
          The image file is removed from the gallery folder.
        </Confirm>
      )}
    </main>
  );
}
