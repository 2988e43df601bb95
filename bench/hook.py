"""Per-prompt cost of the zagi shell hook in bash, beside direnv and mise, in one run.

- zagi: N prompt cycles (what PROMPT_COMMAND runs) with the hook vs the same loop
  without it, inside an activated project where nothing changed; the difference per
  prompt is the hook's cost. Target: under 0.5 ms. Also enter+leave (activation).
- direnv: `direnv export bash` per prompt (what its hook runs), nothing changed.
- mise: `mise hook-env -s bash` per prompt, nothing changed (mise from the npm
  registry, @jdxcode/mise, installed into a cache on first use).
All times are wall clock from bash's $EPOCHREALTIME; medians of --repeat runs.
Usage: .venv/bin/python bench/hook.py [--prompts 2000] [--calls 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "zagi-bench"

ZAGI_LOOP = r"""
eval "$(zagi hook bash)"
cd "$PROJECT" && _zagi_hook
t0=$EPOCHREALTIME; for ((i = 0; i < N; i++)); do :; done
t1=$EPOCHREALTIME; for ((i = 0; i < N; i++)); do _zagi_hook; done
t2=$EPOCHREALTIME
[[ $(command -v node) == /nix/store/* ]] || { echo "hook did not activate" >&2; exit 1; }
for ((i = 0; i < M; i++)); do cd "$PROJECT"; _zagi_hook; cd /; _zagi_hook; done
t3=$EPOCHREALTIME
echo "$t0 $t1 $t2 $t3"
"""
PER_CALL = r"""
cd "$PROJECT" && eval "$(CMD)"
t0=$EPOCHREALTIME; for ((i = 0; i < N; i++)); do eval "$(CMD)"; done; t1=$EPOCHREALTIME
echo "$t0 $t1"
"""


def bash(script: str, env: dict[str, str]) -> list[float]:
    cp = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                        timeout=600)
    if cp.returncode != 0:
        raise SystemExit(f"bench script failed:\n{cp.stderr}")
    return [float(x) for x in cp.stdout.split()]


def mise_bin() -> str | None:
    found = shutil.which("mise")
    if found:
        return found
    exe = CACHE / "node_modules" / ".bin" / "mise"
    if not exe.exists() and shutil.which("npm"):
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(CACHE), "@jdxcode/mise"],
                       capture_output=True, timeout=600)
    return str(exe) if exe.exists() else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=2000)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-mise", action="store_true", help="skip mise (no npm install)")
    args = ap.parse_args()
    zagi = str(Path(sys.executable).parent / "zagi")
    with tempfile.TemporaryDirectory(prefix="zagi-bench-hook-") as tmp:
        t = Path(tmp)
        env = {**os.environ, "ZAGI_HOME": str(t / "home"), "HOME": str(t),
               "ZAGI_NIXPKGS": str(REPO / "fixtures" / "nixpkgs"), "XDG_CONFIG_HOME": str(t / "cfg"),
               "XDG_DATA_HOME": str(t / "data"), "XDG_STATE_HOME": str(t / "state"),
               "XDG_CACHE_HOME": str(t / "cache"), "N": str(args.prompts), "M": "200",
               "PATH": f"{Path(zagi).parent}:/usr/bin:/bin"}
        proj = t / "proj"
        (proj / ".zagi").mkdir(parents=True)
        (proj / ".zagi" / "env.toml").write_text('[tools]\nnode = "20"\n[env]\nFOO = "bar"\n')
        for cmd in (["sync"], ["allow"]):
            subprocess.run([zagi, *cmd], cwd=proj, env=env, check=True, capture_output=True)
        env["PROJECT"] = str(proj)

        hook, base, enter = [], [], []
        for _ in range(args.repeat):
            t0, t1, t2, t3 = bash(ZAGI_LOOP, env)
            base.append((t1 - t0) / args.prompts * 1000)
            hook.append((t2 - t1) / args.prompts * 1000)
            enter.append((t3 - t2) / 200 * 1000)
        per_prompt = statistics.median(h - b for h, b in zip(hook, base, strict=True))
        print(f"zagi hook, nothing changed:   {per_prompt * 1000:8.1f} us/prompt "
              f"({args.prompts} prompts x {args.repeat}; loop alone "
              f"{statistics.median(base) * 1000:.1f} us)   target < 500 us")
        print(f"zagi enter + leave:           {statistics.median(enter):8.3f} ms")

        (proj / ".envrc").write_text("export FOO=bar\nPATH_add .zagi/env/bin\n")
        env["N"] = str(args.calls)  # the per-call loops below run --calls times
        others: dict[str, float] = {}
        if shutil.which("direnv"):
            subprocess.run(["direnv", "allow", str(proj)], env=env, check=True, capture_output=True)
            runs = [bash(PER_CALL.replace("CMD", "direnv export bash 2>/dev/null"), env)
                    for _ in range(args.repeat)]
            others["direnv export bash"] = statistics.median(
                (b - a) / args.calls * 1000 for a, b in runs) if args.calls else 0.0
        mise = None if args.no_mise else mise_bin()
        if mise:
            (proj / "mise.toml").write_text('[env]\nFOO = "bar"\n')
            subprocess.run([mise, "trust", str(proj / "mise.toml")], env=env, capture_output=True)
            cmd = f"{mise} hook-env -s bash 2>/dev/null"
            runs = [bash(PER_CALL.replace("CMD", cmd), env) for _ in range(args.repeat)]
            others["mise hook-env -s bash"] = statistics.median(
                (b - a) / args.calls * 1000 for a, b in runs)
        elif not args.no_mise:
            print("mise: not available (npm install @jdxcode/mise failed); skipped")
        for name, ms in others.items():
            print(f"{name + ':':<30}{ms * 1000:8.1f} us/prompt   zagi is {ms / per_prompt:6.0f}x "
                  "faster" if per_prompt > 0 else f"{name}: {ms:.3f} ms")
        print("PASS" if per_prompt < 0.5 else "MISS", "zagi hook under 0.5 ms per prompt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
