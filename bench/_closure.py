"""A synthetic closure for cache benches: real store paths (nix-store --add) and a
project whose env.lock lists them, so `zagi publish` runs exactly as for a real env."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from zagi.drivers import nix
from zagi.formats import lockfile


def make(project: Path, total_mb: int, seed: int = 0) -> dict[str, object]:
    """~total_mb of data: a few large files (70%) and many small ones (30%), in 8 paths."""
    rnd = __import__("random").Random(seed)
    paths = []
    with tempfile.TemporaryDirectory(prefix="zagi-closure-") as tmp:
        large = int(total_mb * 0.7 / 4 * (1 << 20))
        for i in range(8):
            d = Path(tmp) / f"bench-part-{seed}-{i}"
            d.mkdir()
            if i < 4:
                (d / "large.bin").write_bytes(rnd.randbytes(large))
            else:
                n_small = max(1, int(total_mb * 0.3 / 4 * (1 << 20)) // 4096)
                for j in range(n_small):
                    sub = d / f"dir{j % 32}"
                    sub.mkdir(exist_ok=True)
                    (sub / f"f{j}.txt").write_bytes(rnd.randbytes(2048) * 2)
            out = subprocess.run(["nix-store", "--add", str(d)], capture_output=True, text=True,
                                 check=True).stdout.strip()
            paths.append(out)
    return {"paths": paths, "nar_bytes": write_lock(project, paths)}


def write_lock(project: Path, paths: list[str]) -> int:
    """A project whose env.lock's closure is exactly `paths` (valid store paths); their
    total NAR bytes."""
    hashes = subprocess.run(["nix-store", "-q", "--hash", *paths], capture_output=True,
                            text=True, check=True).stdout.split()
    sizes = subprocess.run(["nix-store", "-q", "--size", *paths], capture_output=True,
                           text=True, check=True).stdout.split()
    rows = sorted(zip(paths, hashes, map(int, sizes), strict=True))
    closure = [{"path": p, "narHash": h, "narSize": n} for p, h, n in rows]
    (project / ".zagi").mkdir(parents=True, exist_ok=True)
    (project / ".zagi" / "env.toml").write_text("schema = 1\n")
    data = {"lock_version": 1, "spec_hash": "sha256:bench", "nixpkgs": {}, "packages": {},
            "env": {}, "systems": {nix.current_system(): {"out": paths[0], "closure": closure}}}
    lockfile.write(project / ".zagi" / "env.lock", lockfile.parse(data, "bench"))
    return sum(n for _, _, n in rows)


def check_consistent(cache: Path) -> list[str]:
    """Every narinfo has its NAR and the narinfos of its references (the write-order rule)."""
    problems = []
    for info_file in cache.glob("*.narinfo"):
        info = dict(ln.split(": ", 1) for ln in info_file.read_text().splitlines() if ": " in ln)
        if not (cache / info["URL"]).exists():
            problems.append(f"{info_file.name}: NAR {info['URL']} missing")
        for ref in info.get("References", "").split():
            if not (cache / f"{ref[:32]}.narinfo").exists():
                problems.append(f"{info_file.name}: reference {ref} has no narinfo")
    return problems


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "ZAGI_HOME": str(home)}


def dumps(x: object) -> str:
    return json.dumps(x)
