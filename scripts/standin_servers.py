#!/usr/bin/env python3
"""Bundle Debian's database servers for the stand-in package set (run by scripts/setup.sh).

The stand-in set cannot download nixpkgs' postgresql or redis, but services must be
tested against real servers taken from the env, never from the host. So setup downloads
Debian's packages (never installs them: no postinst, no host service), extracts them, and
lays each server out as nixpkgs would (bin/, lib/, share/) in
fixtures/nixpkgs/bootstrap/servers/<name>/ together with every shared library it needs
except glibc (the host loader's own libc, which must match it exactly). Each ELF file gets
an $ORIGIN-relative rpath, so the tree works wherever Nix puts it; the stand-in set copies
it into the store with a real derivation.

Two Debian suites give two majors of postgres (bullseye 13, bookworm 15), so switching
versions is tested with real data directories. Idempotent: a bundle whose recorded .deb
versions match what apt offers is left alone.

    python3 scripts/standin_servers.py [--force] [NAME...]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "nixpkgs" / "bootstrap" / "servers"
CACHE = Path(os.environ.get("ZAGI_STANDIN_DEBS", "/var/cache/zagi-standin"))
ARCH = "amd64"
LAYOUT = 3  # bump when the bundle's layout changes: setup then rebuilds every bundle

# glibc's libraries are the host loader's: a copy would break when the host's libc6 moves.
GLIBC = ("ld-linux", "linux-vdso", "libc.so", "libm.so", "libpthread.so", "libdl.so",
         "librt.so", "libresolv.so", "libutil.so", "libanl.so", "libmvec.so")

# name -> suite, packages, what to copy (extracted path -> bundle path), bin links
BUNDLES: dict[str, dict[str, object]] = {
    "postgresql-15": {
        "suite": "bookworm", "debs": ["postgresql-15", "postgresql-client-15"],
        "copy": {"usr/lib/postgresql/15": "lib/postgresql/15",
                 "usr/share/postgresql/15": "share/postgresql/15"},
        "bindir": "lib/postgresql/15/bin",
    },
    "postgresql-13": {
        "suite": "bullseye", "debs": ["postgresql-13", "postgresql-client-13"],
        "copy": {"usr/lib/postgresql/13": "lib/postgresql/13",
                 "usr/share/postgresql/13": "share/postgresql/13"},
        "bindir": "lib/postgresql/13/bin",
    },
    "redis-7.0": {
        "suite": "bookworm", "debs": ["redis-tools"],
        "copy": {"usr/bin/redis-check-rdb": "bin/redis-server",
                 "usr/bin/redis-cli": "bin/redis-cli"},
    },
    "mariadb-10.11": {
        "suite": "bookworm",
        "debs": ["mariadb-server-core", "mariadb-client-core", "mariadb-client"],
        # mariadb-install-db finds the server at <basedir>/sbin (bin/mariadbd links to it)
        "copy": {"usr/sbin/mariadbd": "sbin/mariadbd",
                 "usr/bin/mariadb": "bin/mariadb",
                 "usr/bin/mariadb-admin": "bin/mariadb-admin",
                 "usr/bin/mariadb-install-db": "bin/mariadb-install-db",
                 "usr/bin/my_print_defaults": "bin/my_print_defaults",
                 "usr/bin/resolveip": "bin/resolveip",
                 "usr/share/mysql": "share/mysql"},
        "links": {"bin/mariadbd": "../sbin/mariadbd"},
    },
    "memcached-1.6": {
        "suite": "bookworm", "debs": ["memcached"],
        "copy": {"usr/bin/memcached": "bin/memcached"},
    },
    # Not a server: a real CPython, so the env's venv and pip are tested against an
    # interpreter that behaves as nixpkgs' does (no pip of its own, EXTERNALLY-MANAGED,
    # venv + ensurepip). Its ensurepip is pointed at wheels inside the bundle (Debian's
    # looks in /usr/share/python-wheels, which would make it depend on the host).
    "python-3.11": {
        "suite": "bookworm",
        "debs": ["python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib",
                 "python3.11-venv", "python3-pip-whl", "python3-setuptools-whl"],
        "copy": {"usr/bin/python3.11": "bin/python3.11",
                 "usr/lib/python3.11": "lib/python3.11",
                 "usr/share/python-wheels": "lib/python3.11/ensurepip/_wheels"},
        "links": {"bin/python3": "python3.11", "bin/python": "python3.11"},
        "patch": {"lib/python3.11/ensurepip/__init__.py": (
            "_WHEEL_PKG_DIR = sysconfig.get_config_var('WHEEL_PKG_DIR')",
            "_WHEEL_PKG_DIR = os.path.join(os.path.dirname(__file__), '_wheels')")},
        # Debian compiles the stdlib at install time; the store is read-only, so
        # compile once here (hash-checked: the store resets every mtime).
        "compile": "bin/python3.11",
    },
}
# Dropped from the copies: postgres' LLVM JIT (a 100 MB dependency nothing here needs).
DROP = ("llvmjit", "bitcode")


def main(argv: list[str]) -> int:
    force = "--force" in argv
    names = [a for a in argv if not a.startswith("--")] or list(BUNDLES)
    for name in names:
        bundle(name, BUNDLES[name], force)
    return 0


def bundle(name: str, spec: dict[str, object], force: bool) -> None:
    suite = str(spec["suite"])
    debs = [str(d) for d in spec["debs"]]  # type: ignore[attr-defined]
    apt = _apt(suite)
    versions = _candidates(apt, debs)
    dest = OUT / name
    stamp = dest / ".bundle.json"
    want = {"debs": versions, "suite": suite, "layout": LAYOUT}
    if not force and stamp.exists() and json.loads(stamp.read_text()) == want:
        print(f"  ok       stand-in server {name} ({', '.join(versions.values())})")
        return
    print(f"  bundle   stand-in server {name} from Debian {suite}: {' '.join(debs)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        for deb in _download(apt, debs + _library_deps(apt, debs)):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        staging = Path(tmp) / name
        _lay_out(root, staging, spec)
        _vendor_libraries(root, staging, staging / "lib" / f"{name}-private")
        if exe := spec.get("compile"):
            subprocess.run([str(staging / str(exe)), "-m", "compileall", "-q", "-j0",
                            "--invalidation-mode", "unchecked-hash", str(staging / "lib")],
                           check=True)
        (staging / ".bundle.json").write_text(json.dumps(want, indent=1) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), dest)


def _apt(suite: str) -> list[str]:
    """apt-get options reading only SUITE's index (kept under CACHE, updated once a day)."""
    state = CACHE / "apt" / suite
    (state / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    sources = state / "sources.list"
    lines = [f"deb http://deb.debian.org/debian {suite} main"]
    if suite == "bookworm":
        lines.append("deb http://deb.debian.org/debian-security bookworm-security main")
    sources.write_text("\n".join(lines) + "\n")
    opts = ["-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={state / 'lists'}", "-o", f"Dir::Cache={state}",
            "-o", "Dir::State::status=/dev/null", "-o", "APT::Sandbox::User=root",
            "-o", f"APT::Architecture={ARCH}"]
    fresh = state / "lists" / ".updated"
    import time

    if not fresh.exists() or time.time() - fresh.stat().st_mtime > 86400:
        subprocess.run(["apt-get", *opts, "-qq", "update"], check=True)
        fresh.touch()
    return opts


def _candidates(apt: list[str], debs: list[str]) -> dict[str, str]:
    out = subprocess.run(["apt-cache", *apt, "show", "--no-all-versions", *debs],
                         capture_output=True, text=True, check=True).stdout
    versions: dict[str, str] = {}
    pkg = ""
    for line in out.splitlines():
        if line.startswith("Package: "):
            pkg = line.split(": ", 1)[1]
        elif line.startswith("Version: ") and pkg:
            versions[pkg] = line.split(": ", 1)[1]
    return versions


def _library_deps(apt: list[str], debs: list[str]) -> list[str]:
    """Every lib* package DEBS need (recursively), except glibc."""
    out = subprocess.run(
        ["apt-cache", *apt, "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *debs],
        capture_output=True, text=True, check=True).stdout
    names = {ln.strip() for ln in out.splitlines() if ln and not ln[0].isspace()}
    return sorted(n for n in names
                  if n.startswith("lib") and not n.startswith(("libc6", "libc-"))
                  and "<" not in n and not n.startswith("libllvm"))


def _download(apt: list[str], pkgs: list[str]) -> list[Path]:
    where = CACHE / "debs"
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", *apt, "-qq", "download", *pkgs], cwd=where, check=True,
                   stdout=subprocess.DEVNULL)
    have = {p.name.split("_", 1)[0]: p for p in sorted(where.glob(f"*_{ARCH}.deb"))}
    have.update({p.name.split("_", 1)[0]: p for p in sorted(where.glob("*_all.deb"))})
    return [have[p] for p in pkgs if p in have]


def _lay_out(root: Path, dest: Path, spec: dict[str, object]) -> None:
    for src, dst in spec["copy"].items():  # type: ignore[attr-defined]
        s, d = root / src, dest / dst
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, symlinks=True,
                            ignore=lambda _d, names: [n for n in names if n.startswith(DROP)])
        else:
            shutil.copy2(s.resolve(), d)
    for link, target in spec.get("links", {}).items():  # type: ignore[attr-defined]
        (dest / link).symlink_to(target)
    for rel, (old, new) in spec.get("patch", {}).items():  # type: ignore[attr-defined]
        f = dest / rel
        text = f.read_text()
        if old not in text:
            raise SystemExit(f"error: {rel} no longer contains {old!r}: update the patch")
        f.write_text(text.replace(old, new))
    if bindir := spec.get("bindir"):
        (dest / "bin").mkdir(exist_ok=True)
        for exe in sorted((dest / str(bindir)).iterdir()):
            (dest / "bin" / exe.name).symlink_to(os.path.relpath(exe, dest / "bin"))


def _elves(tree: Path) -> list[Path]:
    out = []
    for p in sorted(tree.rglob("*")):
        if p.is_file() and not p.is_symlink():
            with p.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    out.append(p)
    return out


def _vendor_libraries(root: Path, dest: Path, libdir: Path) -> None:
    """Copy every non-glibc library the ELF files load into libdir; point rpaths there.
    A directory of the bundle's own (lib/<name>-private): two servers in one env must not
    collide on the libraries each brings."""
    libdirs = [root / "usr/lib/x86_64-linux-gnu", root / "lib/x86_64-linux-gnu"]
    env = {**os.environ, "LD_LIBRARY_PATH": ":".join(str(d) for d in libdirs)}
    libdir.mkdir(parents=True, exist_ok=True)
    pending = _elves(dest)
    seen: set[str] = set()
    while pending:
        elf = pending.pop()
        ldd = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, env=env)
        for line in ldd.stdout.splitlines():
            if "=>" not in line:
                continue
            soname, _, where = line.strip().partition(" => ")
            if soname.startswith(GLIBC) or soname in seen:
                continue
            if where.startswith("not found"):
                raise SystemExit(f"error: {elf.name} needs {soname}, which no package provides")
            seen.add(soname)
            copy = libdir / soname
            shutil.copy2(Path(where.split(" (")[0]).resolve(), copy)
            copy.chmod(0o755)
            pending.append(copy)
    for elf in _elves(dest):
        rel = os.path.relpath(libdir, elf.parent)
        rpath = "$ORIGIN" if rel == "." else f"$ORIGIN/{rel}"
        subprocess.run(["patchelf", "--set-rpath", rpath, str(elf)], check=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
