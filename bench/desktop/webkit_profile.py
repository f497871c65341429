#!/usr/bin/env python3
"""Where the web process's main thread goes, from WebKit's own inspector (stdlib + websocket-client).

The app must be built with Tauri's devtools (a profiling build, never shipped):

    CARGO_TARGET_DIR=~/.cache/papermemes/target cargo build --release --locked \
        -p papermemes-desktop --features custom-protocol,tauri/devtools

Then, under Xvfb like the other desktop benches (compositing off, as run.sh sets it):

    WEBKIT_DISABLE_COMPOSITING_MODE=1 xvfb-run -a -s "-screen 0 1600x1000x24" \
        python3 bench/desktop/webkit_profile.py --app ~/.cache/papermemes/target/release/papermemes-desktop

starts it on the simulator at 10x in a new data folder (measure.py's set-up), with WebKit's remote
inspector server on --port, waits --warm seconds and records --secs. It prints:
CPU per web-process thread (WebKit's CPU profiler), rendering work per second by kind
(layouts with their root rectangle, paints with their clip), full garbage collections, and
JavaScript samples by function (JavaScriptCore's sampling profiler, about one per millisecond
of JavaScript; names are the minified bundle's). WebKitGTK 2.50 reports every timeline record
with a time of 0 over this server, so this gives counts, not durations. `--host HOST:PORT`
records an app already started with WEBKIT_INSPECTOR_HTTP_SERVER=HOST:PORT instead.

`pip install websocket-client` first. Run one WebKit app at a time.
"""

import argparse
import collections
import json
import os
import re
import shutil
import sys
import threading
import time
import urllib.request

import websocket  # websocket-client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402  (the app's launch and data folder, shared with the other benches)


def record(host, secs):
    page = urllib.request.urlopen(f"http://{host}/", timeout=10).read().decode()
    found = re.findall(r"/socket/(\d+)/(\d+)/(WebPage)", page)
    if not found:
        raise SystemExit(f"no inspectable page at {host} (built with tauri/devtools?)")
    conn, target, kind = found[0]
    ws = websocket.create_connection(f"ws://{host}/socket/{conn}/{target}/{kind}", timeout=10)
    msgs = []

    def reader():
        while True:
            try:
                msgs.append(json.loads(ws.recv()))
            except Exception:  # the socket closed
                break

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(1.5)
    page_target = next((m["params"]["targetInfo"]["targetId"] for m in msgs
                        if m.get("method") == "Target.targetCreated"), None)
    n = [0]

    def send(method, params=None):
        n[0] += 1
        inner = {"id": n[0], "method": method, "params": params or {}}
        if page_target:
            ws.send(json.dumps({"id": 100000 + n[0], "method": "Target.sendMessageToTarget",
                                "params": {"targetId": page_target, "message": json.dumps(inner)}}))
        else:
            ws.send(json.dumps(inner))

    for m in ("Inspector.enable", "Inspector.initialized", "Timeline.enable", "Heap.enable"):
        send(m)
    send("Timeline.setInstruments", {"instruments": ["ScriptProfiler", "Timeline", "CPU"]})
    send("ScriptProfiler.startTracking", {"includeSamples": True})
    send("CPUProfiler.startTracking")
    send("Timeline.start")
    time.sleep(secs)
    send("Timeline.stop")
    send("CPUProfiler.stopTracking")
    send("ScriptProfiler.stopTracking")
    time.sleep(3)
    ws.close()
    out = []
    for m in msgs:
        if m.get("method") == "Target.dispatchMessageFromTarget":
            out.append(json.loads(m["params"]["message"]))
        else:
            out.append(m)
    return out


def report(msgs, secs):
    count = collections.Counter()
    where = collections.Counter()

    def walk(r):
        count[r["type"]] += 1
        data = r.get("data") or {}
        if r["type"] == "Layout" and "root" in data:
            x0, y0, x1, _, _, y2 = data["root"][:6]
            where[f"layout root x {x0}-{x1}, y {y0}-{y2}"] += 1
        if r["type"] == "Paint" and "clip" in data:
            x0, y0, x1, _, _, y2 = data["clip"][:6]
            where[f"paint clip x {x0}-{x1}, y {y0}-{y2}"] += 1
        for c in r.get("children", []):
            walk(c)

    for m in msgs:
        if m.get("method") == "Timeline.eventRecorded":
            walk(m["params"]["record"])
    cpu = [m["params"]["event"] for m in msgs if m.get("method") == "CPUProfiler.trackingUpdate"]
    if cpu:
        print(f"web process CPU (% of one core): {sum(e['usage'] for e in cpu) / len(cpu):.1f}")
        threads = collections.defaultdict(float)
        for e in cpu:
            for t in e.get("threads", []):
                threads[t.get("name") or t.get("type") or "?"] += t["usage"] / len(cpu)
        for name, u in sorted(threads.items(), key=lambda kv: -kv[1])[:6]:
            print(f"  {name}: {u:.1f}")
    print("timeline records per second:")
    for k, v in count.most_common(16):
        print(f"  {k:28s} {v / secs:6.1f}")
    print("where layout and paint happen (per second, window pixels):")
    for k, v in where.most_common(10):
        print(f"  {v / secs:5.1f}  {k}")
    gcs = [m["params"]["collection"]["type"] for m in msgs if m.get("method") == "Heap.garbageCollected"]
    print(f"garbage collections per second: {len(gcs) / secs:.2f} {dict(collections.Counter(gcs))}")
    for m in msgs:
        if m.get("method") != "ScriptProfiler.trackingComplete":
            continue
        traces = (m["params"].get("samples") or {}).get("stackTraces", [])
        print(f"JavaScript samples: {len(traces)} ({len(traces) / secs:.0f}/s, ~1 ms each)")
        top = collections.Counter()
        for t in traces:
            f = (t.get("stackFrames") or [{}])[0]
            top[f"{f.get('name') or '(anonymous)'} {f.get('url', '')[-28:]}"] += 1
        for k, v in top.most_common(15):
            print(f"  {v * 100 / max(1, len(traces)):5.1f}%  {k}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", help="a devtools build of the desktop app to start")
    ap.add_argument("--host", help="HOST:PORT of an app already started with the inspector server")
    ap.add_argument("--port", type=int, default=9222)
    ap.add_argument("--warm", type=float, default=30, help="seconds after the screen is up")
    ap.add_argument("--secs", type=float, default=20, help="seconds recorded")
    ap.add_argument("--raw", help="also write the inspector's messages to this JSON file")
    a = ap.parse_args()
    if bool(a.app) == bool(a.host):
        ap.error("give --app or --host")
    proc, data = None, None
    host = a.host or f"127.0.0.1:{a.port}"
    if a.app:
        data = measure.data_dir(speed=10)
        env = dict(os.environ, LANG="C.UTF-8", PAPERMEMES_LOG="warn", PAPERMEMES_DATA_DIR=data,
                   WEBKIT_INSPECTOR_HTTP_SERVER=host)
        proc, _, _ = measure.launch([a.app], env, r"interactive (\d+) ms after start", timeout=120)
        time.sleep(a.warm)
    try:
        msgs = record(host, a.secs)
    finally:
        if proc:
            measure.stop(proc)
            shutil.rmtree(data, ignore_errors=True)
    if a.raw:
        with open(a.raw, "w") as f:
            json.dump(msgs, f)
    report(msgs, a.secs)


if __name__ == "__main__":
    main()
