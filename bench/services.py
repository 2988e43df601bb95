"""`zagi up -d postgres` until postgres is ready, against `pg_ctl start -w` on the same
data dir, the same server binary and the same settings (issue 17: target <= 1.3x).

Two zagi figures, because they differ in what they start:
- cold: no supervisor yet for the project (`zagi up -d` starts supervisord, then postgres);
- warm: the project's supervisor already runs (another service is up), as after the
  first `zagi up` of a working session.
Each run stops the server again (`zagi down` / `pg_ctl stop -m fast`); runs alternate
between the three so machine noise falls on all of them. Medians are printed.
Uses the stand-in package set (Debian's postgres 15) and throwaway state.
Usage: .venv/bin/python bench/services.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_sources, ms

REPO = Path(__file__).resolve().parent.parent


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def quiet(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    cp = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if cp.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{cp.stdout}{cp.stderr}")
    return cp.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    compile_sources()
    zagi = str(Path(sys.executable).parent / "zagi")
    with tempfile.TemporaryDirectory(prefix="zagi-bench-services-") as tmp:
        Path(tmp).chmod(0o755)  # as root the servers run as the service user
        env = {**os.environ, "ZAGI_HOME": f"{tmp}/home", "ZAGI_SERVICES_HOME": f"{tmp}/state",
               "ZAGI_NIXPKGS": str(REPO / "fixtures" / "nixpkgs"), "NO_COLOR": "1"}
        env.setdefault("NIX_CONFIG", "substituters =")
        proj = Path(tmp) / "proj"
        (proj / ".zagi").mkdir(parents=True)
        (proj / ".zagi" / "env.toml").write_text(
            'schema = 1\n[services]\npostgres = "15"\nmemcached = "1"\n')
        quiet([zagi, "up", "-d", "postgres"], proj, env)  # sync, initdb: not timed
        row = {r["name"]: r for r in json.loads(quiet([zagi, "services", "--json"], proj,
                                                      env))["services"]}["postgres"]
        quiet([zagi, "down"], proj, env)
        data, port = row["data_dir"], str(row["port"])
        sockets = str(Path(row["socket"]).parent)
        bindir = Path(os.readlink(proj / ".zagi" / "env")) / "bin"
        drop = []
        log = Path(tmp) / "pg_ctl.log"
        log.touch()
        if os.geteuid() == 0:  # pg_ctl refuses root, as postgres does
            drop = ["setpriv", "--reuid=zagi-services", "--regid=zagi-services", "--clear-groups"]
            st = Path(data).stat()
            os.chown(log, st.st_uid, st.st_gid)
        pg_opts = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c logging_collector=off"
        pg_start = [*drop, str(bindir / "pg_ctl"), "-D", data, "-o", pg_opts,
                    "-l", str(log), "start", "-w"]
        pg_stop = [*drop, str(bindir / "pg_ctl"), "-D", data, "stop", "-m", "fast", "-w"]

        cold, warm, floor = [], [], []
        for _ in range(args.runs + 1):  # the first round warms caches; not counted
            c = timed([zagi, "up", "-d", "postgres"], proj, env)
            quiet([zagi, "down"], proj, env)
            quiet([zagi, "up", "-d", "memcached"], proj, env)  # keeps the supervisor up
            w = timed([zagi, "up", "-d", "postgres"], proj, env)
            quiet([zagi, "down", "postgres"], proj, env)
            quiet([zagi, "down"], proj, env)
            f = timed(pg_start, proj, env)
            quiet(pg_stop, proj, env)
            cold.append(c)
            warm.append(w)
            floor.append(f)
        cold, warm, floor = cold[1:], warm[1:], floor[1:]
    base = statistics.median(floor)
    mc, mw = statistics.median(cold), statistics.median(warm)
    print(f"pg_ctl start -w                {ms(base)}   (baseline, median of {args.runs})")
    print(f"zagi up -d postgres (warm)     {ms(mw)}   ratio {mw / base:4.2f}x   target <= 1.30x")
    print(f"zagi up -d postgres (cold)     {ms(mc)}   ratio {mc / base:4.2f}x   "
          "(starts supervisord first)")
    print("PASS" if mw / base <= 1.3 else "MISS",
          "zagi up -d with the project's supervisor running, within 1.3x of pg_ctl start -w")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
