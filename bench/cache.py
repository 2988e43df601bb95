"""Publish and fetch throughput of a >= 200 MB closure beside Nix and raw boto3, in one run
(issue: cache speed at the floor). Medians over --runs; every contender writes to a fresh
destination and every fetch goes into a fresh, empty store (NIX_REMOTE=local?root=...),
on tmpfs where there is one, so no run pays for another's files (this machine's ext4
makes creating files right after deleting many of them several times slower: a store
path deleted and re-fetched would measure that, not the fetcher).

- publish: `zagi publish` to file:// vs `nix copy --to file://...?compression=zstd`; to S3
  (moto's server on 127.0.0.1) vs a raw boto3 upload program (8 threads, upload_file) of
  the very bytes zagi wrote;
- fetch + import: zagi (bench/_fetch.py: narinfos verified against the lock, then
  parallel `nix copy` batches; from S3 each batch first streamed + decompressed +
  NarHash-checked into a staging cache) vs Nix's http substituter (`nix copy --from
  http://`, `zagi cache serve` serving the same cache), beside the floor (`cat` of the
  NAR files) and Nix reading zagi's file:// cache;
- paths the caches Nix uses already hold (an upstream file:// cache in nix.conf's
  substituters) are counted and not uploaded;
- peak RSS of publishing and fetching one --big-mb NAR (target: under 200 MB).

Usage: .venv/bin/python bench/cache.py [--mb 200] [--runs 3] [--big-mb 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _closure
from _timing import compile_sources

S3 = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
NIX = ["nix", "--extra-experimental-features", "nix-command"]
HERE = Path(__file__).resolve().parent
RSS_LIMIT_MB = 200
RAW_UPLOAD = """
import sys, pathlib, boto3
from concurrent.futures import ThreadPoolExecutor
endpoint, root, prefix = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
files = [f for f in root.rglob("*") if f.is_file()]
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda f: s3.upload_file(str(f), "raw", f"{prefix}/{f.relative_to(root)}"),
                  files))
"""


_cpu = [0.0]  # CPU seconds of the commands run() waited for since the last timed()
SERVERS: list[int] = []  # pids whose CPU counts too (moto, zagi cache serve)


def run(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    out, err = p.communicate()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}... failed:\n{err[-2000:]}")
    return out


def _tree_cpu() -> float:
    """CPU seconds of every child (and its waited-for children) this process reaped."""
    import resource

    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def _server_cpu() -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in SERVERS:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def timed(fn: Callable[[], object]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the commands fn ran, CPU seconds of the servers)."""
    c0, s0 = _tree_cpu(), _server_cpu()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0, _tree_cpu() - c0, _server_cpu() - s0


def peak_rss_mb(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    """Peak RSS of a command and the children it waited for (wait4's rusage)."""
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed: {p.stderr.read().decode()[-2000:]}"
                         if p.stderr else "failed")
    return usage.ru_maxrss / 1024


class Stores:
    """Fresh empty stores (chroot stores under one directory), removed only at the end."""

    def __init__(self, root: Path) -> None:
        self.root, self.n = root, 0

    def fresh(self) -> dict[str, str]:
        self.n += 1
        return {**os.environ, "NIX_REMOTE": f"local?root={self.root / str(self.n)}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(env: dict[str, str], cache: Path) -> tuple[subprocess.Popen[str], str]:
    srv = subprocess.Popen([str(HERE.parent / ".venv/bin/zagi"), "cache", "serve", "--from",
                            f"file://{cache}", "--port", "0", "--read-only", "--json"],
                           env=env, stdout=subprocess.PIPE, text=True)
    assert srv.stdout is not None
    return srv, json.loads(srv.stdout.readline())["url"]


def upstream_skip(t: Path, proj: Path, paths: list[str], env: dict[str, str],
                  zagi: str) -> tuple[int, int, float]:
    """(paths not uploaded, of how many, MB not uploaded) with two of the closure's paths
    in an upstream cache that nix.conf names (as cache.nixos.org holds glibc)."""
    sk, pk = t / "up.sk", t / "up.pk"
    run(["nix-store", "--generate-binary-cache-key", "upstream-1", str(sk), str(pk)])
    # paths[0] is the env output, never left upstream; two others are
    run([*NIX, "copy", "--to", f"file://{t}/upstream?secret-key={sk}", *paths[1:3]])
    conf = (f"substituters = file://{t}/upstream\n"
            f"trusted-public-keys = {pk.read_text().strip()}\n")
    out = json.loads(run([zagi, "publish", "--to", f"file://{t}/with-upstream", "--json"],
                         env={**env, "NIX_CONFIG": conf}, cwd=proj))
    sizes = dict(zip(paths, map(int, run(["nix-store", "-q", "--size", *paths]).split()),
                     strict=True))
    return len(out["upstream"]), len(paths), sum(sizes[p] for p in out["upstream"]) / 1e6


def big_nar_rss(t: Path, mb: int, env: dict[str, str], zagi: str,
                stores: Stores) -> tuple[float, float]:
    """Peak RSS (MB) of `zagi publish` and of a fetch (http) of one path of one mb-MB file."""
    src = t / "big-src" / f"bench-big-{int(time.time())}"
    src.mkdir(parents=True)
    with (src / "big.bin").open("wb") as fh:
        rnd = random.Random(7)
        for _ in range(mb):
            fh.write(rnd.randbytes(1 << 20))
    path = run(["nix-store", "--add", str(src)]).strip()
    shutil.rmtree(src.parent)
    proj = t / "big-proj"
    _closure.write_lock(proj, [path])
    cache = t / "big-cache"
    try:
        pub = peak_rss_mb([zagi, "publish", "--to", f"file://{cache}"], env, cwd=proj)
        srv, http = serve(env, cache)
        try:
            fetch = peak_rss_mb([sys.executable, str(HERE / "_fetch.py"), http,
                                 (t / "pub.key").read_text().strip(), str(proj)],
                                {**env, **stores.fresh()})
        finally:
            srv.terminate()
    finally:
        subprocess.run(["nix-store", "--delete", path], capture_output=True)
    return pub, fetch


@dataclass
class Ctx:
    t: Path
    proj: Path
    env: dict[str, str]
    paths: list[str]
    pub: str
    endpoint: str
    zagi: str
    stores: Stores
    r: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)

    def add(self, name: str, got: tuple[float, float, float]) -> None:
        self.r.setdefault(name, []).append(got)

    def fetch(self, url: str) -> Callable[[], object]:
        return lambda: run([sys.executable, str(HERE / "_fetch.py"), url, self.pub,
                            str(self.proj)], env={**self.env, **self.stores.fresh()})


def publish_round(c: Ctx, i: int) -> None:
    """Each contender to a fresh destination; the order alternates between rounds."""
    ours, nixs = c.t / f"zagi-cache-{i}", c.t / f"nix-cache-{i}"
    steps = [("zagi publish file://", lambda: run(
                [c.zagi, "publish", "--to", f"file://{ours}"], env=c.env, cwd=c.proj)),
             ("nix copy --to file:// (zstd)", lambda: run(
                [*NIX, "copy", "--to", f"file://{nixs}?compression=zstd", *c.paths]))]
    for name, fn in steps if i % 2 == 0 else steps[::-1]:
        c.add(name, timed(fn))
    c.add("zagi publish s3 (moto)", timed(lambda: run(
        [c.zagi, "publish", "--to", f"s3://zagi/r{i}?endpoint={c.endpoint}&region=us-east-1"],
        env=c.env, cwd=c.proj)))
    # A program of its own, as zagi publish is: both pay a Python and boto3 start.
    c.add("raw boto3 upload, same bytes", timed(lambda: run(
        [sys.executable, "-c", RAW_UPLOAD, c.endpoint, str(ours), f"r{i}"], env=c.env)))


def fetch_round(c: Ctx, i: int, http: str) -> None:
    """Each contender into a fresh empty store; the order alternates between rounds."""
    ours = c.t / "zagi-cache-0"
    trust = ["--option", "extra-trusted-public-keys", c.pub]
    nar_files = [str(f) for f in (ours / "nar").iterdir()]
    steps = [
        ("floor: cat of the NAR files", lambda: subprocess.run(
            ["cat", *nar_files], stdout=subprocess.DEVNULL, check=True)),
        ("nix substituter from http", lambda: run(
            [*NIX, "copy", "--from", http, *c.paths, *trust], env=c.stores.fresh())),
        ("zagi fetch from http", c.fetch(http)),
        ("zagi fetch from s3", c.fetch(f"s3://zagi/r0?endpoint={c.endpoint}&region=us-east-1")),
        ("nix copy --from zagi's file://", lambda: run(
            [*NIX, "copy", "--from", f"file://{ours}", *c.paths, *trust], env=c.stores.fresh())),
        ("zagi fetch from file://", c.fetch(f"file://{ours}")),
    ]
    for name, fn in steps if i % 2 == 0 else steps[::-1]:
        c.add(name, timed(fn))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-mb", type=int, default=1024, help="0: skip the memory check")
    args = ap.parse_args()
    compile_sources()
    os.environ.update(S3)
    zagi = str(HERE.parent / ".venv/bin/zagi")
    with tempfile.TemporaryDirectory(prefix="zagi-bench-cache-") as tmp:
        t = Path(tmp)
        proj = t / "proj"
        info = _closure.make(proj, args.mb, seed=int(time.time()))
        paths: list[str] = info["paths"]  # type: ignore[assignment]
        mb = int(info["nar_bytes"]) / 1e6  # type: ignore[call-overload]
        env = {**_closure.env(t / "home"), **S3}
        pub = run([zagi, "keys", "generate", "bench-1"], env=env).strip()
        (t / "pub.key").write_text(pub)
        port = free_port()
        moto = subprocess.Popen([str(HERE.parent / ".venv/bin/moto_server"), "-H", "127.0.0.1",
                                 "-p", str(port)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        # Stores on tmpfs where there is one: creating files on this machine's ext4 costs
        # several times more right after many were deleted, which is the disk, not the
        # fetcher; both fetchers then pay the same small, steady cost.
        shm = Path("/dev/shm")
        scratch = Path(tempfile.mkdtemp(dir=shm, prefix="zagi-bench-")) if shm.is_dir() else t
        c = Ctx(t, proj, env, paths, pub, f"http://127.0.0.1:{port}", zagi, Stores(scratch / "stores"))
        SERVERS[:] = [moto.pid]
        try:
            import boto3

            s3 = boto3.client("s3", endpoint_url=c.endpoint, region_name="us-east-1")
            for b in ("zagi", "raw"):
                s3.create_bucket(Bucket=b)
            for i in range(args.runs):
                publish_round(c, i)
            srv, http = serve(env, t / "zagi-cache-0")
            SERVERS[:] = [moto.pid, srv.pid]
            try:
                for i in range(args.runs):
                    fetch_round(c, i, http)
            finally:
                srv.terminate()
            upstream = upstream_skip(t, proj, paths, env, zagi)
            rss = big_nar_rss(t, args.big_mb, env, zagi, c.stores) if args.big_mb else None
        finally:
            moto.terminate()
            subprocess.run(["nix-store", "--delete", *paths], capture_output=True)
            shutil.rmtree(scratch, ignore_errors=True)
    report(c.r, mb, len(paths), args.runs, upstream, rss, args.big_mb)
    return 0


def report(r: dict[str, list[tuple[float, float, float]]], mb: float, n: int, runs: int,
           upstream: tuple[int, int, float], rss: tuple[float, float] | None,
           big_mb: int) -> None:
    med = {k: statistics.median(w for w, _, _ in v) for k, v in r.items()}
    cpu = {k: statistics.median(c for _, c, _ in v) for k, v in r.items()}
    srv = {k: statistics.median(x for _, _, x in v) for k, v in r.items()}
    print(f"closure: {mb:.0f} MB of NARs in {n} store paths (70% in 4 large files); "
          f"medians of {runs} runs; CPU: the command's process tree, and the servers' "
          f"(moto, zagi cache serve) on the same {os.cpu_count()} cores")
    for name, secs in med.items():
        print(f"{name:<36} {secs:6.2f} s  {mb / secs:7.1f} MB/s   cpu {cpu[name]:5.2f} s"
              f" + server {srv[name]:5.2f} s")
    rows = [("zagi publish file:// vs nix copy --to", "zagi publish file://",
             "nix copy --to file:// (zstd)", 1.0),
            ("zagi publish s3 vs raw boto3 (same bytes)", "zagi publish s3 (moto)",
             "raw boto3 upload, same bytes", 1.2)]
    for label, a, b, target in rows:
        x = med[a] / med[b]
        print(f"{label + ':':<46}{x:5.2f}x the time  (target <= {target}x: "
              f"{'met' if x <= target else 'MISSED'})")
    for via in ("http", "s3"):
        x = med["nix substituter from http"] / med[f"zagi fetch from {via}"]
        print(f"{'zagi fetch from ' + via + ' vs nix substituter (http):':<46}{x:5.2f}x the "
              f"throughput  (target >= 3x: {'met' if x >= 3 else 'MISSED'})")
    x = med["nix copy --from zagi's file://"] / med["zagi fetch from file://"]
    print(f"{'zagi fetch from file:// vs nix copy --from:':<46}{x:5.2f}x the throughput")
    nix_busy = (cpu["nix substituter from http"] + srv["nix substituter from http"]) / \
        med["nix substituter from http"]
    print(f"nix's substituter keeps {nix_busy:.1f} of {os.cpu_count()} cores busy (with its "
          f"server): at the same CPU per byte, {(os.cpu_count() or 1) / nix_busy:.1f}x its "
          "throughput is the most any fetcher gets on this machine")
    print(f"upstream: {upstream[0]} of {upstream[1]} paths ({upstream[2]:.0f} MB) already in "
          "the caches Nix uses, not uploaded")
    if rss is not None:
        for what, v in zip(("publish", "fetch"), rss, strict=True):
            print(f"peak RSS, {what} of one {big_mb} MB NAR: {v:6.0f} MB  (target < "
                  f"{RSS_LIMIT_MB} MB: {'met' if v < RSS_LIMIT_MB else 'MISSED'})")


if __name__ == "__main__":
    raise SystemExit(main())
