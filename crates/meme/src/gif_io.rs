//! Animated GIF, one frame at a time: a decoder that composites each frame onto one canvas
//! (honouring the disposal methods) and hands it out, and an encoder that quantises each
//! captioned frame against a shared palette and writes it. Nothing holds more than the canvas,
//! one frame and the palette, so memory stays flat however many frames there are.

use std::io::{Read, Write};

use color_quant::NeuQuant;
use image::RgbaImage;

use crate::error::MemeError;
use crate::source::{check_dims, ImageSource, Limits, Repeat};

/// One composited frame.
#[derive(Debug)]
pub(crate) struct DecodedFrame {
    pub(crate) image: RgbaImage,
    /// Delay after this frame, hundredths of a second.
    pub(crate) delay_cs: u16,
}

/// Streaming GIF decoder producing full-canvas RGBA frames.
pub(crate) struct GifFrames {
    name: String,
    decoder: gif::Decoder<Box<dyn Read + Send>>,
    width: usize,
    height: usize,
    canvas: Vec<u8>,
    /// What to undo before the next frame: the last frame's rect and disposal, and for
    /// `Previous` the canvas under it.
    pending: Option<(Rect, gif::DisposalMethod, Option<Vec<u8>>)>,
    frames: usize,
    max_frames: usize,
}

impl std::fmt::Debug for GifFrames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GifFrames")
            .field("name", &self.name)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("frames", &self.frames)
            .finish()
    }
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

impl GifFrames {
    pub(crate) fn open(source: &ImageSource, limits: &Limits) -> Result<GifFrames, MemeError> {
        let name = source.name();
        let reader = source.open(limits)?;
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let limit = u64::from(limits.max_width) * u64::from(limits.max_height) * 4;
        options.set_memory_limit(gif::MemoryLimit::Bytes(
            std::num::NonZeroU64::new(limit.max(1)).expect("non-zero"),
        ));
        let decoder = options
            .read_info(reader)
            .map_err(|e| MemeError::bad_image(&name, e.to_string()))?;
        let (w, h) = (u32::from(decoder.width()), u32::from(decoder.height()));
        check_dims(&name, w, h, limits)?;
        Ok(GifFrames {
            name,
            decoder,
            width: w as usize,
            height: h as usize,
            canvas: vec![0; w as usize * h as usize * 4],
            pending: None,
            frames: 0,
            max_frames: limits.max_frames,
        })
    }

    /// The next composited frame, or `None` after the last.
    pub(crate) fn next_frame(&mut self) -> Result<Option<DecodedFrame>, MemeError> {
        if let Some((r, dispose, saved)) = self.pending.take() {
            match dispose {
                gif::DisposalMethod::Background => self.clear(r),
                gif::DisposalMethod::Previous => {
                    if let Some(saved) = saved {
                        self.restore(r, &saved);
                    }
                }
                _ => {}
            }
        }
        let frame = match self
            .decoder
            .read_next_frame()
            .map_err(|e| MemeError::bad_image(&self.name, e.to_string()))?
        {
            Some(f) => f,
            None => return Ok(None),
        };
        self.frames += 1;
        if self.frames > self.max_frames {
            return Err(MemeError::TooManyFrames {
                source_name: self.name.clone(),
                max: self.max_frames,
            });
        }
        let r = Rect {
            x: usize::from(frame.left),
            y: usize::from(frame.top),
            w: usize::from(frame.width),
            h: usize::from(frame.height),
        };
        let dispose = frame.dispose;
        let delay_cs = frame.delay;
        let saved = (dispose == gif::DisposalMethod::Previous)
            .then(|| save(&self.canvas, self.width, self.height, r));
        blit(&mut self.canvas, self.width, self.height, r, &frame.buffer);
        self.pending = Some((r, dispose, saved));
        let image = RgbaImage::from_raw(self.width as u32, self.height as u32, self.canvas.clone())
            .ok_or_else(|| MemeError::bad_image(&self.name, "frame size mismatch"))?;
        Ok(Some(DecodedFrame { image, delay_cs }))
    }

    fn clear(&mut self, r: Rect) {
        for y in r.y..(r.y + r.h).min(self.height) {
            let x0 = r.x.min(self.width);
            let x1 = (r.x + r.w).min(self.width);
            self.canvas[(y * self.width + x0) * 4..(y * self.width + x1) * 4].fill(0);
        }
    }

    fn restore(&mut self, r: Rect, saved: &[u8]) {
        let x0 = r.x.min(self.width);
        let x1 = (r.x + r.w).min(self.width);
        let row = (x1 - x0) * 4;
        for (i, y) in (r.y..(r.y + r.h).min(self.height)).enumerate() {
            let d = (y * self.width + x0) * 4;
            self.canvas[d..d + row].copy_from_slice(&saved[i * row..i * row + row]);
        }
    }
}

fn save(canvas: &[u8], width: usize, height: usize, r: Rect) -> Vec<u8> {
    let x0 = r.x.min(width);
    let x1 = (r.x + r.w).min(width);
    let mut out = Vec::new();
    for y in r.y..(r.y + r.h).min(height) {
        out.extend_from_slice(&canvas[(y * width + x0) * 4..(y * width + x1) * 4]);
    }
    out
}

/// Draws a frame's RGBA rect onto the canvas; fully transparent pixels leave it as it was.
fn blit(canvas: &mut [u8], width: usize, height: usize, r: Rect, buf: &[u8]) {
    for fy in 0..r.h {
        let y = r.y + fy;
        if y >= height {
            break;
        }
        for fx in 0..r.w {
            let x = r.x + fx;
            if x >= width {
                break;
            }
            let s = (fy * r.w + fx) * 4;
            if s + 4 > buf.len() {
                return;
            }
            if buf[s + 3] == 0 {
                continue;
            }
            let d = (y * width + x) * 4;
            canvas[d..d + 4].copy_from_slice(&buf[s..s + 4]);
        }
    }
}

/// Index reserved for transparent pixels.
const TRANSPARENT: u8 = 255;
/// Colours the quantiser may use (index 255 is transparency).
const COLORS: usize = 255;

/// A palette with a lazily filled 18-bit (6 bits per channel) lookup table.
struct Palette {
    rgb: Vec<u8>,
    nq: NeuQuant,
    lut: Vec<u16>,
    /// Mean squared error (sum over RGB) of the frame it was trained on.
    base_error: f32,
}

const LUT_EMPTY: u16 = u16::MAX;

impl Palette {
    fn train(rgba: &[u8]) -> Palette {
        let opaque: Vec<u8>;
        let pixels = if rgba.chunks_exact(4).any(|p| p[3] < 128) {
            opaque = rgba
                .chunks_exact(4)
                .filter(|p| p[3] >= 128)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect();
            if opaque.is_empty() {
                &[0, 0, 0, 255][..]
            } else {
                &opaque[..]
            }
        } else {
            rgba
        };
        let n = pixels.len() / 4;
        // About 12k training samples whatever the frame size: quality stays, time is bounded.
        let samplefac = (n / 12_000).clamp(1, 30) as i32;
        let nq = NeuQuant::new(samplefac, COLORS, pixels);
        let rgb = nq.color_map_rgb();
        let mut p = Palette {
            rgb,
            nq,
            lut: vec![LUT_EMPTY; 1 << 18],
            base_error: 0.0,
        };
        p.base_error = p.error(rgba);
        p
    }

    fn index(&mut self, r: u8, g: u8, b: u8) -> u8 {
        let key = (usize::from(r >> 2) << 12) | (usize::from(g >> 2) << 6) | usize::from(b >> 2);
        let v = self.lut[key];
        if v != LUT_EMPTY {
            return v as u8;
        }
        let rep = [(r & 0xFC) | 2, (g & 0xFC) | 2, (b & 0xFC) | 2, 255];
        let i = self.nq.index_of(&rep).min(COLORS - 1) as u8;
        self.lut[key] = u16::from(i);
        i
    }

    /// Mean squared error over a sample of the opaque pixels.
    fn error(&mut self, rgba: &[u8]) -> f32 {
        let mut total = 0u64;
        let mut n = 0u64;
        for p in rgba.chunks_exact(4).step_by(7) {
            if p[3] < 128 {
                continue;
            }
            let i = usize::from(self.index(p[0], p[1], p[2]));
            let c = &self.rgb[i * 3..i * 3 + 3];
            for k in 0..3 {
                let d = i64::from(p[k]) - i64::from(c[k]);
                total += (d * d) as u64;
            }
            n += 1;
        }
        if n == 0 {
            0.0
        } else {
            total as f32 / n as f32
        }
    }

    fn map(&mut self, rgba: &[u8], out: &mut Vec<u8>) -> bool {
        out.clear();
        out.reserve(rgba.len() / 4);
        let mut any_transparent = false;
        for p in rgba.chunks_exact(4) {
            if p[3] < 128 {
                any_transparent = true;
                out.push(TRANSPARENT);
            } else {
                let i = self.index(p[0], p[1], p[2]);
                out.push(i);
            }
        }
        any_transparent
    }

    fn gif_palette(&self) -> Vec<u8> {
        let mut p = self.rgb.clone();
        p.resize(256 * 3, 0);
        p
    }
}

/// Streaming GIF encoder: the first frame's palette becomes the global palette and is shared
/// by the next frames; a frame it no longer fits (mean error far above what it had on its own
/// frame) gets a palette of its own, which then becomes the shared one.
pub(crate) struct GifSink<W: Write> {
    out: Option<W>,
    encoder: Option<gif::Encoder<W>>,
    width: u16,
    height: u16,
    repeat: Repeat,
    palette: Option<Palette>,
    /// The current shared palette is the global one.
    palette_is_global: bool,
    indices: Vec<u8>,
    pub(crate) frames: usize,
    pub(crate) palettes: usize,
}

impl<W: Write> GifSink<W> {
    pub(crate) fn new(out: W, width: u32, height: u32, repeat: Repeat) -> Result<Self, MemeError> {
        let (Ok(width), Ok(height)) = (u16::try_from(width), u16::try_from(height)) else {
            return Err(MemeError::bad_input(
                "size",
                format!("{width}×{height} is too large for a GIF (at most 65535 a side)"),
            ));
        };
        Ok(GifSink {
            out: Some(out),
            encoder: None,
            width,
            height,
            repeat,
            palette: None,
            palette_is_global: false,
            indices: Vec::new(),
            frames: 0,
            palettes: 0,
        })
    }

    /// Quantises and writes one straight-alpha RGBA frame of the sink's size.
    pub(crate) fn write(&mut self, rgba: &[u8], delay_cs: u16) -> Result<(), MemeError> {
        let err = |e: gif::EncodingError| MemeError::encode("GIF", e);
        let mut local = false;
        let retrain = match self.palette.as_mut() {
            None => true,
            Some(p) => {
                let e = p.error(rgba);
                e > p.base_error * 2.0 + 64.0
            }
        };
        if retrain {
            self.palette = Some(Palette::train(rgba));
            self.palettes += 1;
            local = self.encoder.is_some();
            self.palette_is_global = !local;
        }
        let palette = self.palette.as_mut().expect("palette set above");
        let any_transparent = palette.map(rgba, &mut self.indices);
        if self.encoder.is_none() {
            let out = self
                .out
                .take()
                .expect("writer present before the first frame");
            let mut enc = gif::Encoder::new(out, self.width, self.height, &palette.gif_palette())
                .map_err(err)?;
            enc.set_repeat(match self.repeat {
                Repeat::Infinite => gif::Repeat::Infinite,
                Repeat::Finite(n) => gif::Repeat::Finite(n),
            })
            .map_err(err)?;
            self.encoder = Some(enc);
        }
        let use_local = local || !self.palette_is_global;
        let frame = gif::Frame {
            width: self.width,
            height: self.height,
            delay: delay_cs,
            dispose: if any_transparent {
                gif::DisposalMethod::Background
            } else {
                gif::DisposalMethod::Keep
            },
            transparent: any_transparent.then_some(TRANSPARENT),
            palette: use_local.then(|| palette.gif_palette()),
            buffer: std::borrow::Cow::Borrowed(&self.indices),
            ..gif::Frame::default()
        };
        self.encoder
            .as_mut()
            .expect("encoder created above")
            .write_frame(&frame)
            .map_err(err)?;
        self.frames += 1;
        Ok(())
    }

    /// Writes the trailer and returns the writer.
    pub(crate) fn finish(mut self) -> Result<W, MemeError> {
        match self.encoder.take() {
            Some(enc) => enc.into_inner().map_err(|e| MemeError::encode("GIF", e)),
            None => Err(MemeError::encode("GIF", "no frames to write")),
        }
    }
}
