import { useEffect, useMemo, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { GalleryView, TemplateView, TradeMemeView } from "../bindings";
import { api, errorMessage } from "../lib/ipc";
import {
  FORMATS,
  SIZES,
  STICKERS,
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
  type Editor,
} from "../lib/memes";
import { useUi } from "../lib/store";
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

function TradeCard({ symbol, onClose }: { symbol: string; onClose: () => void }) {
  const qc = useQueryClient();
  const [seed, setSeed] = useState(0);
  const [view, setView] = useState<TradeMemeView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api
      .memeForPosition(symbol, seed)
      .then((v) => live && (setView(v), setLoadError(null)))
      .catch((e: unknown) => live && setLoadError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [symbol, seed]);
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
  return (
    <section className="panel trade-card" data-testid="trade-card">
      <div className="panel-head">
        <span>
          Meme of your {pairName(symbol)} position
          {view && (
            <span className={(view.change_pct ?? 0) >= 0 ? "up" : "down"}>
              {" "}
              {(view.change_pct ?? 0) >= 0 ? "+" : ""}
              {(view.change_pct ?? 0).toFixed(2)}%
            </span>
          )}
        </span>
        <button className="icon-btn" aria-label="Close the trade meme" onClick={onClose}>
          ✕
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

export function MemeStudio({ hidden = false }: { hidden?: boolean }) {
  const qc = useQueryClient();
  const memeTrade = useUi((s) => s.memeTrade);
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState<string | null>(null);
  const [gallerySearch, setGallerySearch] = useState("");
  const [format, setFormat] = useState("png");
  const [editor, setEditor] = useState<Editor>(emptyEditor(null));
  const [selectedSticker, setSelectedSticker] = useState<number | null>(null);
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

  const pick = (t: TemplateView) => {
    setEditor((e) => (e.template ? withTemplate(e, t) : emptyEditor(t)));
    setSelectedSticker(null);
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

  // Clicking the preview places the selected sticker there.
  const placeSticker = (ev: React.MouseEvent<HTMLImageElement>) => {
    if (selectedSticker === null) return;
    const r = ev.currentTarget.getBoundingClientRect();
    const x = (ev.clientX - r.left) / r.width;
    const y = (ev.clientY - r.top) / r.height;
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
        {memeTrade && <TradeCard symbol={memeTrade} onClose={() => useUi.getState().setMemeTrade(null)} />}
        <section className="panel meme-stage">
          <div className="panel-head">
            <span data-testid="meme-template-name">{current ? current.name : "Choose a template"}</span>
            <span className="muted">
              {preview.busy ? "rendering…" : current ? `${current.width}×${current.height}${current.animated ? " · animated: GIF export keeps the animation" : ""}` : ""}
            </span>
          </div>
          <div className="meme-preview">
            {preview.image ? (
              <img
                src={preview.image}
                alt="Meme preview"
                data-testid="meme-preview"
                onClick={placeSticker}
                className={selectedSticker !== null ? "placing" : ""}
              />
            ) : (
              <div className="muted">{preview.error ?? "Loading…"}</div>
            )}
          </div>
          {preview.error && preview.image && <div className="error-text">{preview.error}</div>}
        </section>
      </section>

      <section className="panel meme-editor">
        <div className="panel-head">
          <span>Captions</span>
        </div>
        {editor.captions.map((c, i) => (
          <label className="field" key={i}>
            <span>Text {i + 1}</span>
            <textarea
              rows={2}
              value={c}
              placeholder={current?.examples[0]?.[i] ?? ""}
              onChange={(e) => setEditor((ed) => setCaption(ed, i, e.target.value))}
              aria-label={`Caption ${i + 1}`}
            />
          </label>
        ))}
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
              ✕
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
