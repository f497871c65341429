"""Fetch the pinned inputs of the starter meme template library from the package registries.

Every input is pinned by version and by the SHA-256 of the archive the registry serves, so a rebuild
uses exactly the same pixels:

* Debian 12 (bookworm) `openclipart-svg` 1:0.18+dfsg-19: public-domain clip art (SVG), via `apt-get download`.
* npm `@iconify-json/noto` 1.2.9: Google's Noto Emoji artwork as SVG (Apache-2.0), via `npm pack`.
* PyPI `scikit-image` 0.26.0: its bundled sample photos (`skimage/data/`), via `pip download`
  (one fixed wheel, whatever the host, so the hash is stable; only its data files are read).

Nothing is installed system-wide: archives go to the cache folder and are unpacked there.

    python3 scripts/templates/sources.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO / "bench" / "out" / "templates-cache"


@dataclass(frozen=True)
class Package:
    key: str  # short name used by build.py
    registry: str  # "debian" | "npm" | "pypi"
    name: str
    version: str
    filename: str  # archive file name as the client saves it
    sha256: str


PACKAGES = [
    Package(
        key="openclipart",
        registry="debian",
        name="openclipart-svg",
        version="1:0.18+dfsg-19",
        filename="openclipart-svg_1%3a0.18+dfsg-19_all.deb",
        sha256="989712d90d57dfa3230049f553bb43b76c30ee4d4b8c5f6e106e33f7db5cbdc5",
    ),
    Package(
        key="noto",
        registry="npm",
        name="@iconify-json/noto",
        version="1.2.9",
        filename="iconify-json-noto-1.2.9.tgz",
        sha256="3e918d88fc945c0bb3d468dbace6f88caef67f01c9f0e7bcae0915a042e8f1ad",
    ),
    Package(
        key="skimage",
        registry="pypi",
        name="scikit-image",
        version="0.26.0",
        filename="scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
        sha256="74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
    ),
]

BY_KEY = {p.key: p for p in PACKAGES}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path) -> None:
    print("+", " ".join(cmd), file=sys.stderr)
    r = subprocess.run(cmd, cwd=cwd)
    if r.returncode != 0:
        raise SystemExit(f"command failed ({r.returncode}): {' '.join(cmd)}")


def _download(p: Package, dl: Path) -> Path:
    target = dl / p.filename
    if target.exists() and sha256_file(target) == p.sha256:
        return target
    if p.registry == "debian":
        if not shutil.which("apt-get"):
            raise SystemExit(
                f"{p.name} {p.version} comes from Debian 12 (bookworm); this needs apt-get with the "
                "bookworm sources (run `apt-get update` first)"
            )
        _run(["apt-get", "download", f"{p.name}={p.version}"], dl)
    elif p.registry == "npm":
        if not shutil.which("npm"):
            raise SystemExit("npm is needed to fetch @iconify-json/noto (apt-get install npm)")
        _run(["npm", "pack", "--silent", f"{p.name}@{p.version}"], dl)
    elif p.registry == "pypi":
        _run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", f"{p.name}=={p.version}",
                "--no-deps", "--only-binary=:all:",
                "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
                "--implementation", "cp", "--abi", "cp311", "-d", str(dl),
            ],
            dl,
        )
    else:  # pragma: no cover
        raise AssertionError(p.registry)
    if not target.exists():
        raise SystemExit(f"{p.name}: expected {target} after the download")
    got = sha256_file(target)
    if got != p.sha256:
        raise SystemExit(f"{p.name} {p.version}: sha256 {got} != pinned {p.sha256}")
    return target


def _unpack(p: Package, archive: Path, dest: Path) -> None:
    stamp = dest / ".unpacked"
    if stamp.exists() and stamp.read_text() == p.sha256:
        return
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if p.registry == "debian":
        _run(["dpkg-deb", "-x", str(archive), str(dest)], dest)
    elif p.registry == "npm":
        with tarfile.open(archive) as t:
            t.extractall(dest, filter="data")
    elif p.registry == "pypi":
        with zipfile.ZipFile(archive) as z:
            for n in z.namelist():
                # only the sample data and the licence notes are needed
                if n.startswith("skimage/data/") or n.endswith("LICENSE.txt"):
                    z.extract(n, dest)
    stamp.write_text(p.sha256)


def fetch(cache: Path = DEFAULT_CACHE) -> dict[str, Path]:
    """Download (if needed), verify and unpack every package; returns key -> unpacked root."""
    dl = cache / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    roots = {}
    for p in PACKAGES:
        archive = _download(p, dl)
        dest = cache / "unpacked" / p.key
        _unpack(p, archive, dest)
        roots[p.key] = dest
    return roots


def roots(cache: Path = DEFAULT_CACHE) -> dict[str, Path]:
    """Unpacked roots, fetching first when a package is missing."""
    out = {}
    for p in PACKAGES:
        dest = cache / "unpacked" / p.key
        stamp = dest / ".unpacked"
        if not (stamp.exists() and stamp.read_text() == p.sha256):
            return fetch(cache)
        out[p.key] = dest
    return out


# Paths of the interesting trees inside each unpacked package.
OPENCLIPART_DIR = "usr/share/openclipart/svg"
NOTO_ICONS = "package/icons.json"
SKIMAGE_DATA = "skimage/data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TEMPLATES_CACHE", DEFAULT_CACHE)))
    args = ap.parse_args()
    r = fetch(args.cache)
    print(json.dumps({k: str(v) for k, v in r.items()}, indent=2))


if __name__ == "__main__":
    main()
