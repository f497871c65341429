//! An empty Tauri 2 window (the baseline PaperMemes is measured against).
fn main() {
    let started = std::time::Instant::now();
    tauri::Builder::default()
        .on_page_load(move |_w, p| {
            if matches!(p.event(), tauri::webview::PageLoadEvent::Finished) {
                eprintln!("empty: page loaded {} ms after start", started.elapsed().as_millis());
            }
        })
        .run(tauri::generate_context!())
        .expect("run");
}
