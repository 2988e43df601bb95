"""`zagi log -n 100` on a 10,000-commit repository, against `git log -100 --stat`.

The repository is made with `git fast-import` (seconds): every commit changes a source
file, every 20th also .zagi/env.toml and .zagi/env.lock (a tool added or a version
moved). Target (issue 15): <= 1 s. Medians of --runs, ratio to git in the same run.
Usage: .venv/bin/python bench/log.py [--commits 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _blob(data: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(data), data)


def make_repo(path: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    stream = bytearray()
    for i in range(commits):
        stream += b"commit refs/heads/main\n"
        stream += b"committer bench <b@b> %d +0000\n" % (1_700_000_000 + i)
        stream += _blob(f"change {i}".encode())
        # no `from`: fast-import continues the branch it last committed to
        stream += b"M 100644 inline src/file%d.txt\n" % (i % 50) + _blob(f"{i}\n".encode())
        if i % 20 == 0:
            k = i // 20
            tools = {f"tool{j}": f"{j}.{k - j}" for j in range(min(k, 8) + 1)}
            toml = "[tools]\n" + "".join(f'{n} = "{v}"\n' for n, v in tools.items())
            lock = {"lock_version": 1, "spec_hash": f"sha256:{k}", "nixpkgs": {}, "env": {},
                    "packages": {n: {"kind": "tool", "request": v, "version": v + ".0",
                                     "attr": n, "nixpkgs": "r"} for n, v in tools.items()},
                    "systems": {}}
            stream += b"M 100644 inline .zagi/env.toml\n" + _blob(toml.encode())
            stream += b"M 100644 inline .zagi/env.lock\n" + _blob(json.dumps(lock).encode())
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=bytes(stream),
                   check=True)
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True)


def timed(argv: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    return (time.perf_counter() - t0) * 1000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    zagi = str(Path(sys.executable).parent / "zagi")
    with tempfile.TemporaryDirectory(prefix="zagi-bench-log-") as tmp:
        repo = Path(tmp) / "repo"
        t0 = time.perf_counter()
        make_repo(repo, args.commits)
        made = time.perf_counter() - t0
        out = json.loads(subprocess.run([zagi, "log", "-n", "100", "--json"], cwd=repo,
                                        check=True, capture_output=True, text=True).stdout)
        with_env = sum(1 for c in out["commits"] if c["changes"])
        assert len(out["commits"]) == 100 and with_env == 5, (len(out["commits"]), with_env)
        zs = [timed([zagi, "log", "-n", "100"], repo) for _ in range(args.runs)]
        gs = [timed(["git", "log", "-100", "--stat"], repo) for _ in range(args.runs)]
    z, g = statistics.median(zs), statistics.median(gs)
    print(f"repository: {args.commits} commits (made in {made:.1f} s)")
    print(f"zagi log -n 100:        {z:7.0f} ms  (median of {args.runs}; {with_env} commits "
          f"with an env change; target <= 1000 ms)")
    print(f"git log -100 --stat:    {g:7.0f} ms  (zagi = {z / g:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
