"""Crash safety of `zagi publish`: kill -9 the publisher at random moments, check the cache.

After every kill, every narinfo in the cache must have its NAR and its references'
narinfos (a reader may see an incomplete cache, never an inconsistent one); at the
end a resumed publish completes. Target (issue 5): >= 50 trials.
Usage: .venv/bin/python bench/soak_publish.py [--trials 50] [--mb 64]
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _closure


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--mb", type=int, default=64)
    args = ap.parse_args()
    zagi = str(Path(sys.executable).parent / "zagi")
    with tempfile.TemporaryDirectory(prefix="zagi-soak-") as tmp:
        t = Path(tmp)
        proj, cache, home = t / "proj", t / "cache", t / "home"
        info = _closure.make(proj, args.mb, seed=random.randrange(1 << 30))
        env = _closure.env(home)
        subprocess.run([zagi, "keys", "generate", "soak-1"], env=env, check=True,
                       capture_output=True)
        t0 = time.perf_counter()
        subprocess.run([zagi, "publish", "--to", f"file://{cache}"], cwd=proj, env=env,
                       check=True, capture_output=True)
        full = time.perf_counter() - t0
        rnd = random.Random(1)
        kills = bad = 0
        import shutil

        for trial in range(args.trials):
            if (cache / "nix-cache-info").exists():  # the last publish finished: start over,
                shutil.rmtree(cache)  # so every kill interrupts real work (partial caches resume)
            p = subprocess.Popen([zagi, "publish", "--to", f"file://{cache}"], cwd=proj, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0, full * 1.2))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
            problems = _closure.check_consistent(cache)
            if problems:
                bad += 1
                print(f"trial {trial}: INCONSISTENT: {problems[0]}")
        subprocess.run([zagi, "publish", "--to", f"file://{cache}"], cwd=proj, env=env,
                       check=True, capture_output=True)
        complete = all((cache / f"{p.removeprefix('/nix/store/')[:32]}.narinfo").exists()
                       for p in info["paths"])  # type: ignore[attr-defined]
        print(f"{args.trials} trials ({kills} killed mid-publish, full publish {full:.2f} s, "
              f"{int(info['nar_bytes']) / 1e6:.0f} MB closure): {bad} inconsistent caches; "  # type: ignore[call-overload]
              f"resumed publish {'completed' if complete else 'INCOMPLETE'}")
        print("PASS" if bad == 0 and complete else "FAIL", "crash safety")
        return 0 if bad == 0 and complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
