"""Publish and fetch throughput of a >= 200 MB closure, beside Nix and raw boto3, in one run.

- publish: `zagi publish` to file:// and to S3 (moto's server on 127.0.0.1), vs
  `nix copy --to file://...?compression=zstd`, vs a raw boto3 upload (8 threads) of the
  very bytes zagi wrote;
- fetch into the store: Nix substituting from zagi's file:// cache, vs from Nix's own
  cache; and zagi's own S3 path (parallel download + FileHash check into a local mirror,
  then Nix imports it).
Usage: .venv/bin/python bench/cache.py [--mb 200]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _closure

S3 = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def delete(paths: list[str]) -> None:
    for p in paths:
        subprocess.run(["nix-store", "--delete", p], capture_output=True)
    assert not any(Path(p).exists() for p in paths), "bench paths are still alive"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    args = ap.parse_args()
    os.environ.update(S3)
    zagi = str(Path(sys.executable).parent / "zagi")
    nix = ["nix", "--extra-experimental-features", "nix-command"]
    with tempfile.TemporaryDirectory(prefix="zagi-bench-cache-") as tmp:
        t = Path(tmp)
        proj, home = t / "proj", t / "home"
        info = _closure.make(proj, args.mb, seed=int(time.time()))
        paths: list[str] = info["paths"]  # type: ignore[assignment]
        mb = int(info["nar_bytes"]) / 1e6  # type: ignore[call-overload]
        env = {**_closure.env(home), **S3}
        pub = subprocess.run([zagi, "keys", "generate", "bench-1"], env=env, check=True,
                             capture_output=True, text=True).stdout.strip()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        moto = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H",
                                 "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        endpoint = f"http://127.0.0.1:{port}"
        try:
            import boto3

            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            for b in ("zagi", "raw"):
                s3.create_bucket(Bucket=b)
            ours, nixs = t / "zagi-cache", t / "nix-cache"
            z = lambda *a: subprocess.run([zagi, *a], cwd=proj, env=env, check=True,  # noqa: E731
                                          capture_output=True)
            r = {}
            r["zagi publish file://"] = timed(lambda: z("publish", "--to", f"file://{ours}"))
            r["zagi publish s3 (moto)"] = timed(lambda: z(
                "publish", "--to", f"s3://zagi?endpoint={endpoint}&region=us-east-1"))
            r["nix copy --to file:// (zstd)"] = timed(lambda: subprocess.run(
                [*nix, "copy", "--to", f"file://{nixs}?compression=zstd", *paths], check=True,
                capture_output=True))
            files = [f for f in ours.rglob("*") if f.is_file()]

            def raw() -> None:
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda f: s3.upload_file(str(f), "raw", str(f.relative_to(ours))),
                                  files))
            r["raw boto3 upload, same bytes"] = timed(raw)
            delete(paths)
            trust = ["--option", "trusted-public-keys", pub]
            r["nix copy --from zagi's file://"] = timed(lambda: subprocess.run(
                [*nix, "copy", "--from", f"file://{ours}", *paths, *trust], check=True,
                capture_output=True))
            delete(paths)
            r["nix copy --from nix's file://"] = timed(lambda: subprocess.run(
                [*nix, "copy", "--no-check-sigs", "--from", f"file://{nixs}", *paths], check=True,
                capture_output=True))
            delete(paths)

            def zagi_s3() -> None:
                sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
                os.environ["ZAGI_HOME"] = str(home)
                from zagi.cache.reader import mirror as _mirror
                from zagi.storage import open_url

                url = _mirror(open_url(f"s3://zagi?endpoint={endpoint}&region=us-east-1"),
                              "bench", paths)
                subprocess.run([*nix, "copy", "--from", url, *paths, *trust], check=True,
                               capture_output=True)
            r["zagi fetch s3 (download+import)"] = timed(zagi_s3)
            delete(paths)
            # The same http cache read two ways: Nix's substituter, and zagi's own parallel
            # download (FileHash-checked) into a local mirror that Nix then imports.
            srv = subprocess.Popen([zagi, "cache", "serve", "--from", f"file://{ours}",
                                    "--port", "0", "--read-only", "--json"], env=env,
                                   stdout=subprocess.PIPE,
                                   text=True)
            assert srv.stdout is not None
            http = __import__("json").loads(srv.stdout.readline())["url"]
            try:
                r["nix substituter from http"] = timed(lambda: subprocess.run(
                    [*nix, "copy", "--from", http, *paths, *trust, "--option",
                     "narinfo-cache-negative-ttl", "0"], check=True, capture_output=True))
                delete(paths)

                def zagi_http() -> None:
                    from zagi.cache.reader import mirror as _mirror
                    from zagi.storage import open_url

                    url = _mirror(open_url(http), "bench-http", paths)
                    subprocess.run([*nix, "copy", "--from", url, *paths, *trust], check=True,
                                   capture_output=True)
                r["zagi download from http + import"] = timed(zagi_http)
                delete(paths)
            finally:
                srv.terminate()
        finally:
            moto.terminate()
    print(f"closure: {mb:.0f} MB of NARs in {len(paths)} store paths (70% in 4 large files)")
    for name, secs in r.items():
        print(f"{name:<36} {secs:6.2f} s  {mb / secs:7.1f} MB/s")
    pairs = [("zagi publish file:// vs nix copy --to", "zagi publish file://",
              "nix copy --to file:// (zstd)"),
             ("zagi publish s3 vs raw boto3 (same bytes)", "zagi publish s3 (moto)",
              "raw boto3 upload, same bytes"),
             ("nix reading zagi's cache vs nix's own", "nix copy --from zagi's file://",
              "nix copy --from nix's file://"),
             ("zagi's downloader vs nix's substituter (http)",
              "zagi download from http + import", "nix substituter from http")]
    for label, a, b in pairs:
        print(f"{label + ':':<44}{r[a] / r[b]:5.2f}x the time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
