use std::path::Path;
use std::process::Command;

fn main() {
    link_order();
    tauri_build::build()
}

/// Lay out the functions the app runs while it starts and sits idle side by side in the binary.
/// The kernel maps code in 64 KiB runs around each page the app touches, so the 3.7 MiB of code
/// start-up and idle run, spread over 18 MiB of `.text`, kept 11 MiB of it resident; packed, 5 MiB
/// (docs/desktop-memory.md, "Eighth pass"). `link-order.txt` lists them, one symbol per line,
/// recorded by `bench/desktop/link-order.sh`; names the binary no longer has are skipped.
///
/// Only where the linker is LLD: Rust's default linker for x86_64 Linux since 1.90. Other
/// linkers do not know the option; `PAPERMEMES_LINK_ORDER=off` turns it off by hand.
fn link_order() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=PAPERMEMES_LINK_ORDER");
    // Read when the script runs, not baked in when it was compiled: cargo reuses a compiled build
    // script across checkouts that share a target folder (a CI clone, a worktree), and a baked-in
    // path then names a folder that may be gone, which silently dropped the order.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let order = Path::new(&dir).join("link-order.txt");
    let target = std::env::var("TARGET").unwrap_or_default();
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let own_linker = [
        "linker=",
        "linker-flavor",
        "linker-features",
        "link-self-contained",
    ]
    .iter()
    .any(|f| flags.contains(f));
    let off = std::env::var("PAPERMEMES_LINK_ORDER").is_ok_and(|v| v == "off");
    if off || own_linker || target != "x86_64-unknown-linux-gnu" || !rustc_links_with_lld() {
        return;
    }
    if !order.exists() {
        println!(
            "cargo:warning=no {}: the binary is linked without its function order",
            order.display()
        );
        return;
    }
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
        order.display()
    );
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
}

/// Rust 1.90 and later link x86_64 Linux binaries with its own LLD.
fn rustc_links_with_lld() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("-vV").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(release) = text.lines().find_map(|l| l.strip_prefix("release: ")) else {
        return false;
    };
    let mut parts = release
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (1, 90)
}
