//! Shared by the render bench and the gif_memory example: a fixed palette to write test GIFs.

/// A 6×7×6 colour cube (252 colours) and the index of an RGB colour in it: enough to write
/// test GIFs without a quantiser.
pub fn cube_palette() -> Vec<u8> {
    let mut p = Vec::with_capacity(256 * 3);
    for r in 0..6u32 {
        for g in 0..7u32 {
            for b in 0..6u32 {
                p.extend_from_slice(&[(r * 51) as u8, (g * 42) as u8, (b * 51) as u8]);
            }
        }
    }
    p
}

pub fn cube_index(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|px| {
            let (r, g, b) = (u32::from(px[0]), u32::from(px[1]), u32::from(px[2]));
            ((r * 6 / 256) * 42 + (g * 7 / 256) * 6 + b * 6 / 256) as u8
        })
        .collect()
}
