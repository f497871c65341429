// The shell's commands, unwrapped: a failed command throws an `IpcFailure` carrying the
// engine's stable code and message (`{code, message, details?}`), so queries and mutations can
// show it as it is.

import { Channel } from "@tauri-apps/api/core";
import { commands, events, type Frame, type IpcError, type Notice, type ViewSpec } from "../bindings";

export class IpcFailure extends Error {
  readonly code: string;
  readonly details: unknown;
  constructor(e: IpcError | { code: string; message: string; details?: unknown }) {
    super(e.message);
    this.code = e.code;
    this.details = e.details;
  }
}

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: IpcError };

async function unwrap<T>(p: Promise<Result<T>>): Promise<T> {
  let r: Result<T>;
  try {
    r = await p;
  } catch (e) {
    // Framework-level failures (no shell, a malformed call) reject with a string or Error.
    const message = e instanceof Error ? e.message : String(e);
    throw new IpcFailure({ code: "ipc", message });
  }
  if (r.status === "error") throw new IpcFailure(r.error);
  return r.data;
}

type Commands = typeof commands;
type Unwrapped = {
  [K in keyof Commands]: Commands[K] extends (...a: infer A) => Promise<Result<infer T>>
    ? (...a: A) => Promise<T>
    : never;
};

export const api: Unwrapped = new Proxy({} as Unwrapped, {
  get(_t, name: string) {
    const f = (commands as unknown as Record<string, (...a: unknown[]) => Promise<Result<unknown>>>)[name];
    if (!f) return () => Promise.reject(new IpcFailure({ code: "ipc", message: `no command ${name}` }));
    return (...args: unknown[]) => unwrap(f(...args));
  },
});

/** Stream frames of `view` to `onFrame` until the returned function is called. */
export function watchMarket(view: ViewSpec, onFrame: (f: Frame) => void): () => void {
  let live = true;
  const ch = new Channel<Frame>();
  ch.onmessage = (f) => {
    if (live) onFrame(f);
  };
  void api.watchMarket(view, ch).catch((e: unknown) => {
    console.error("watch_market failed", e);
  });
  return () => {
    live = false;
  };
}

/** Listen to the engine's notices (fills, order changes, source changes). */
export function onNotice(cb: (n: Notice) => void): () => void {
  let unlisten: (() => void) | null = null;
  let stopped = false;
  void events.noticeEvent
    .listen((e) => cb(e.payload))
    .then((u) => {
      if (stopped) u();
      else unlisten = u;
    })
    .catch(() => {
      // No shell (unit tests): nothing to listen to.
    });
  return () => {
    stopped = true;
    unlisten?.();
  };
}

export function errorMessage(e: unknown): string {
  if (e instanceof IpcFailure) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
