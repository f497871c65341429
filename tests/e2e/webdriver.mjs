// A minimal W3C WebDriver client (what the end-to-end tests need, nothing more) for
// tauri-driver, which drives the real PaperMemes app through WebKitWebDriver.

import { spawn } from "node:child_process";
import net from "node:net";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until something listens on 127.0.0.1:port. */
export async function waitForPort(port, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port}`);
    await sleep(100);
  }
}

/**
 * Start tauri-driver. It answers on 4444 before the WebKitWebDriver it starts listens on
 * 4445: wait for both, or sessions fail now and then.
 */
export async function startDriver(env) {
  const bin = process.env.TAURI_DRIVER ?? "tauri-driver";
  const busy = await waitForPort(4444, 0).then(() => true, () => false);
  if (busy) throw new Error("port 4444 is taken: a tauri-driver from an earlier run is still going");
  const proc = spawn(bin, [], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  const exited = new Promise((r) => proc.on("exit", r));
  try {
    await waitForPort(4444);
    await waitForPort(4445);
  } catch (e) {
    proc.kill();
    throw new Error(`${e.message}; tauri-driver said:\n${log}`);
  }
  return {
    log: () => log,
    stop: async () => {
      proc.kill();
      await exited;
    },
  };
}

async function call(method, path, body) {
  const r = await fetch(`http://127.0.0.1:4444${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok || (j.value && j.value.error)) {
    const v = j.value ?? {};
    throw new Error(`${method} ${path}: ${v.error ?? r.status} ${v.message ?? ""}`);
  }
  return j.value;
}

const ELEMENT = "element-6066-11e4-a6ab-4d65c9a6b52c";

export class Session {
  static async start(application) {
    const v = await call("POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application } } },
    });
    const s = new Session(v.sessionId);
    return s;
  }

  constructor(id) {
    this.id = id;
  }

  async end() {
    await call("DELETE", `/session/${this.id}`).catch(() => {});
  }

  async setSize(width, height) {
    await call("POST", `/session/${this.id}/window/rect`, { width, height, x: 0, y: 0 }).catch(() => {});
  }

  async find(css) {
    const v = await call("POST", `/session/${this.id}/elements`, { using: "css selector", value: css });
    return v.map((e) => new El(this, e[ELEMENT] ?? e.ELEMENT ?? Object.values(e)[0]));
  }

  /** Wait for the first element matching `css` (optionally also `pred(text)`). */
  async waitFor(css, what, { timeoutMs = 30_000, pred } = {}) {
    const until = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      try {
        const els = await this.find(css);
        for (const el of els) {
          const text = await el.text();
          last = text;
          if (!pred || pred(text)) return el;
        }
      } catch {
        // the page may be reloading
      }
      if (Date.now() > until) throw new Error(`timed out waiting for ${what} (${css}); last text: ${JSON.stringify(last)}`);
      await sleep(200);
    }
  }

  async waitUntil(fn, what, timeoutMs = 30_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  }

  async clickText(css, text) {
    const els = await this.find(css);
    for (const el of els) {
      if ((await el.text()).trim() === text) return el.click();
    }
    throw new Error(`no ${css} with text ${text}`);
  }

  async screenshot() {
    const b64 = await call("GET", `/session/${this.id}/screenshot`);
    return Buffer.from(b64, "base64");
  }

  async exec(script, args = []) {
    return call("POST", `/session/${this.id}/execute/sync`, { script, args });
  }

  /** Click the mouse at viewport point (x, y): real pointer events in the webview. */
  async clickAt(x, y) {
    await call("POST", `/session/${this.id}/actions`, {
      actions: [
        {
          type: "pointer",
          id: "mouse",
          parameters: { pointerType: "mouse" },
          actions: [
            { type: "pointerMove", origin: "viewport", x: Math.round(x), y: Math.round(y), duration: 0 },
            { type: "pointerDown", button: 0 },
            { type: "pointerUp", button: 0 },
          ],
        },
      ],
    });
    await call("DELETE", `/session/${this.id}/actions`).catch(() => {});
  }

  /** Press the mouse at viewport point (x, y), move it by (dx, dy) in `steps`, release (the
   *  W3C Actions API: real pointer events in the webview). */
  async drag(x, y, dx, dy, steps = 5) {
    const actions = [
      { type: "pointerMove", origin: "viewport", x: Math.round(x), y: Math.round(y), duration: 0 },
      { type: "pointerDown", button: 0 },
    ];
    let [mx, my] = [0, 0];
    for (let i = 1; i <= steps; i++) {
      const [nx, ny] = [Math.round((dx * i) / steps), Math.round((dy * i) / steps)];
      actions.push({ type: "pointerMove", origin: "pointer", x: nx - mx, y: ny - my, duration: 30 });
      [mx, my] = [nx, ny];
    }
    actions.push({ type: "pointerUp", button: 0 });
    await call("POST", `/session/${this.id}/actions`, {
      actions: [{ type: "pointer", id: "mouse", parameters: { pointerType: "mouse" }, actions }],
    });
    await call("DELETE", `/session/${this.id}/actions`).catch(() => {});
  }
}

export class El {
  constructor(session, id) {
    this.s = session;
    this.id = id;
  }
  async click() {
    await call("POST", `/session/${this.s.id}/element/${this.id}/click`, {});
  }
  async text() {
    return call("GET", `/session/${this.s.id}/element/${this.id}/text`);
  }
  async type(text) {
    await call("POST", `/session/${this.s.id}/element/${this.id}/clear`, {}).catch(() => {});
    await call("POST", `/session/${this.s.id}/element/${this.id}/value`, { text });
  }
  async value() {
    return call("GET", `/session/${this.s.id}/element/${this.id}/property/value`);
  }
}
