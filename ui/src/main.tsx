import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClientProvider } from "@tanstack/react-query";
import { App } from "./App";
import { queryClient } from "./lib/queries";
import { toast } from "./components/Toasts";
import "./styles.css";

// A failure in the page is shown, not swallowed (and logged for the log file's sake).
window.addEventListener("error", (e) => {
  console.error(e.error ?? e.message);
  toast({ kind: "error", title: "Something went wrong in the window", body: String(e.message) });
});
window.addEventListener("unhandledrejection", (e) => {
  console.error(e.reason);
  const r = e.reason as { message?: string } | undefined;
  toast({ kind: "error", title: "Something went wrong", body: String(r?.message ?? e.reason) });
});

/**
 * The app's fonts, loaded before the first text is laid out. Text laid out while a web font is
 * still loading is measured with stand-ins from the system's fonts, and WebKit keeps every font it
 * loaded that way (seven of them, regular and bold, sans, serif and mono: docs/desktop-memory.md,
 * "Ninth pass"). They are local files, so this takes a few milliseconds; after 1 s the screen
 * is drawn anyway.
 */
function fontsLoaded(): Promise<unknown> {
  const faces = ["400 12px Inter", "600 12px Inter", '400 12px "JetBrains Mono"'];
  const loads = Promise.all(faces.map((f) => document.fonts.load(f))).catch(() => undefined);
  return Promise.race([loads, new Promise((resolve) => setTimeout(resolve, 1000))]);
}

const root = document.getElementById("root");
if (root) {
  void fontsLoaded().then(() =>
    createRoot(root).render(
      <StrictMode>
        <QueryClientProvider client={queryClient}>
          <App />
        </QueryClientProvider>
      </StrictMode>,
    ),
  );
}
