#!/usr/bin/env python3
"""Alternate builds of the desktop app at 10x on the simulator and print each one's CPU.

    xvfb-run -a -s "-screen 0 1600x1000x24" python3 bench/desktop/cpu_ab.py \\
        --minutes 2 --rounds 3 OLD_BUILD NEW_BUILD

Each round starts every build in turn in a new data folder (measure.py's), waits 15 s after the
screen is interactive, then reads the CPU time of the app's whole process tree for --minutes.
It prints CPU as % of one core, in total and by process, with the PSS at the end. This machine's
speed drifts by several points over an hour, so only builds alternated in one run compare; a
build may carry environment variables: PATH#NAME=VALUE,NAME=VALUE. Copy a binary out of the
target folder and set PAPERMEMES_ASSETS to the repository's assets/ folder to keep an old build.
"""
import argparse
import os
import shutil
import time

import measure as m


def cpu_ticks(pid):
    """CPU ticks (user + system) by process name over the app's tree."""
    out = {}
    for p in m.tree(pid):
        try:
            with open(f"/proc/{p}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # the process ended meanwhile
        fields = stat[stat.rfind(")") + 2:].split()
        out[name] = out.get(name, 0) + int(fields[11]) + int(fields[12])
    return out


def run(spec, minutes, base_env):
    app, _, extra = spec.partition("#")
    env = dict(base_env)
    for pair in filter(None, extra.split(",")):
        k, _, v = pair.partition("=")
        env[k] = v
    data = m.data_dir(speed=10)
    try:
        proc, _, _ = m.launch([app], dict(env, PAPERMEMES_DATA_DIR=data),
                              r"interactive (\d+) ms after start", timeout=120)
        try:
            time.sleep(15)
            c0, t0 = cpu_ticks(proc.pid), time.monotonic()
            time.sleep(minutes * 60)
            c1, t1 = cpu_ticks(proc.pid), time.monotonic()
            pss = m.mem(proc.pid)[0]
        finally:
            m.stop(proc)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    split = {k: round((c1.get(k, 0) - c0.get(k, 0)) / m.HZ / (t1 - t0) * 100, 1) for k in c1}
    return sum(split.values()), split, pss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("builds", nargs="+", help="PATH[#NAME=VALUE,...]")
    a = ap.parse_args()
    base = dict(os.environ, LANG="C.UTF-8", PAPERMEMES_LOG="warn")
    for r in range(a.rounds):
        for spec in a.builds:
            total, split, pss = run(spec, a.minutes, base)
            print(f"round {r + 1} {spec}: {total:.1f} % of one core {split}, PSS {pss:.1f} MiB", flush=True)


if __name__ == "__main__":
    main()
