import { useEffect } from "react";
import { useUi } from "./store";
import { closeTopDialog } from "../components/Dialog";

function typing(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  const tag = t.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || t.isContentEditable;
}

/**
 * Keyboard: B / S put the ticket on buy / sell and focus its amount; Esc closes the open dialog,
 * or else clears the ticket and leaves the field being typed in.
 */
export function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "Escape") {
        if (closeTopDialog()) {
          e.preventDefault();
          return;
        }
        useUi.getState().clearTicket();
        if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
        return;
      }
      if (typing(e.target)) return;
      if (e.key === "b" || e.key === "B") {
        e.preventDefault();
        useUi.getState().focusSide("BUY");
      } else if (e.key === "s" || e.key === "S") {
        e.preventDefault();
        useUi.getState().focusSide("SELL");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
