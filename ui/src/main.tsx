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

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
}
