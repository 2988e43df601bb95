"""Push and clone through the bucket remote against plain git over file:// (issue 18).

A generated repository of N commits (default 10,000: one small file change each, made
with git fast-import) is pushed to and cloned from, each run fresh:
- baseline: `git push file:///bare.git` into a new bare repository and `git clone` of it;
- zagi: `git push zagi::file:///DIR/app` (git-remote-zagi into the bucket layout in a
  directory) and `git clone zagi::file:///DIR/app`.
Medians of --runs, printed with their ratio. With --s3 the zagi side runs against moto's
S3 server on 127.0.0.1 instead (started here).
Usage: .venv/bin/python bench/server.py [--commits N] [--runs N] [--s3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = str(Path(sys.executable).parent)


def env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def run(*argv: str, cwd: Path | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env(), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def generate(repo: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    lines = []
    for i in range(1, commits + 1):
        body = f"line {i}\n"
        msg = f"commit {i}\n"
        lines.append(f"commit refs/heads/main\nmark :{i}\n"
                     f"committer b <b@b> {1700000000 + i} +0000\ndata {len(msg)}\n{msg}"
                     + (f"from :{i - 1}\n" if i > 1 else "")
                     + f"M 100644 inline file{i % 50}.txt\ndata {len(body)}\n{body}\n")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input="".join(lines),
                   text=True, check=True)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "main"], check=True)


def moto() -> tuple[str, subprocess.Popen[bytes]]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([f"{BIN}/moto_server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return endpoint, server
        except OSError:
            time.sleep(0.1)
    raise SystemExit("moto_server did not start")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--s3", action="store_true")
    args = ap.parse_args()
    server = None
    with tempfile.TemporaryDirectory(prefix="zagi-bench-server-") as tmp:
        base = Path(tmp)
        src = base / "src"
        generate(src, args.commits)
        if args.s3:
            import boto3

            endpoint, server = moto()
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        times: dict[str, list[float]] = {k: [] for k in ("git push", "zagi push", "git clone",
                                                        "zagi clone")}
        try:
            for n in range(args.runs):
                bare = base / f"bare{n}.git"
                subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
                if args.s3:
                    s3.create_bucket(Bucket=f"bench-{n}")
                    url = f"zagi::s3://bench-{n}/r/app?endpoint={endpoint}&region=us-east-1"
                else:
                    url = f"zagi::file://{base}/bucket{n}/app"
                times["git push"].append(run("git", "-C", str(src), "push", "-q",
                                             f"file://{bare}", "main"))
                times["zagi push"].append(run("git", "-C", str(src), "push", "-q", url, "main"))
                times["git clone"].append(run("git", "clone", "-q", f"file://{bare}",
                                              str(base / f"c{n}")))
                times["zagi clone"].append(run("git", "clone", "-q", url, str(base / f"z{n}")))
                for d in (f"c{n}", f"z{n}"):
                    shutil.rmtree(base / d)
        finally:
            if server is not None:
                server.terminate()
    med = {k: statistics.median(v) for k, v in times.items()}
    where = "moto S3" if args.s3 else "a directory"
    print(f"{args.commits} commits; zagi side: the bucket layout in {where}; medians of {args.runs}")
    for op in ("push", "clone"):
        g, z = med[f"git {op}"], med[f"zagi {op}"]
        print(f"git {op} (file://, bare)     {g * 1000:8.1f} ms   (baseline)")
        print(f"zagi {op} (git-remote-zagi)  {z * 1000:8.1f} ms   ratio {z / g:4.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
