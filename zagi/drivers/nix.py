"""The Nix driver: every call zagi makes to Nix goes through here.

Why one module: every call must carry the same options, the same error handling
(which derivation failed, the last lines of its log, where the full log is), and the
same logging. zagi never replaces the user's Nix settings: Nix substitutes from the
caches the user configured, and zagi's own caches are read client-side (`copy_from`),
so they work for a user the daemon does not trust, as long as it trusts their key.
Commands are Nix 2.8's stable CLI (nix-instantiate, nix-store, nix-hash) except where
only `nix` can do it (copy, show-config), which is asked for with
--extra-experimental-features, never assumed enabled.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from zagi.core import proc
from zagi.core.errors import (
    BadInput,
    NixBuildError,
    NixError,
    NixEvalError,
    NixFetchError,
    ToolMissing,
    ZagiError,
)
from zagi.core.names import did_you_mean
from zagi.formats.lockfile import PathInfo

__all__ = [
    "SYSTEMS",
    "Event",
    "Meta",
    "NixBuildError",
    "NixError",
    "NixEvalError",
    "NixFetchError",
    "Options",
    "PathInfo",
    "StoreInfo",
    "available",
    "check_system",
    "closure",
    "collect_garbage",
    "copy_from",
    "current_system",
    "dump",
    "eval_json",
    "fixed_output_path",
    "hash_path",
    "instantiate",
    "invalid",
    "is_valid",
    "meta",
    "prefetch_tarball",
    "realise",
    "sandboxed",
    "show_config",
    "store_info",
    "substitute",
    "version",
    "would_build",
]

BUILD_TIMEOUT = 3600.0
_NIX_CMD = ["nix", "--extra-experimental-features", "nix-command"]
_LOG_LINES = 25


@dataclass
class Options:
    """Settings zagi adds to a Nix call. Never substituters or keys: those are the user's.

    `search_path` set = evaluate restricted (`restrict-eval`): the expression may read
    only those directories (and the store), and fetch only `allowed_uris`, so a package
    set cannot read the user's files (an age identity, ~/.ssh) while it is evaluated.
    """

    max_jobs: int | None = None
    search_path: list[str] | None = None
    allowed_uris: list[str] = field(default_factory=list)

    def argv(self) -> list[str]:
        out: list[str] = []
        if self.max_jobs:
            out += ["--max-jobs", str(self.max_jobs)]
        if self.search_path is not None:
            out += ["--option", "restrict-eval", "true",
                    "--option", "allowed-uris", " ".join(self.allowed_uris)]
            for d in self.search_path:
                out += ["-I", d]
        return out

    def restricted(self, search_path: list[str], allowed_uris: list[str]) -> Options:
        return replace(self, search_path=list(search_path), allowed_uris=list(allowed_uris))


def available() -> bool:
    return proc.which("nix-instantiate") is not None and proc.which("nix-store") is not None


def _guess_is_nixs() -> bool:
    """On Linux, Nix builds for the kernel's machine unless its config says otherwise:
    when no nix.conf (nor NIX_CONFIG) mentions `system` or includes another file, the
    guess is Nix's answer, and the first clone on a machine skips asking (~50 ms). On
    macOS (Rosetta: an x86_64 Python, an aarch64 Nix) Nix is always asked."""
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return False
    texts = [os.environ.get("NIX_CONFIG", "")]
    for conf in (Path(os.environ.get("NIX_CONF_DIR") or "/etc/nix") / "nix.conf",
                 Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
                 / "nix" / "nix.conf"):
        try:
            texts.append(conf.read_text(errors="replace")[:1 << 20])
        except OSError:
            continue
    return not any(re.search(r"^\s*(system\s*=|!?include\s)", t, re.M) for t in texts)


def current_system() -> str:
    """The system Nix builds for here (`system` in Nix's config): asked once (~50 ms),
    then cached under $ZAGI_HOME until nix.conf or NIX_CONFIG changes."""
    from zagi.core import layout

    cached = layout.cached_system()
    if cached is not None:
        return cached
    if _guess_is_nixs():
        system = layout.platform_guess()
    else:
        system = show_config().get("system") or layout.platform_guess()
    try:
        from zagi.core.fsutil import atomic_write

        layout.nix_system_file().parent.mkdir(parents=True, exist_ok=True)
        atomic_write(layout.nix_system_file(), f"{system}\n{layout.nix_conf_key()}\n")
    except (OSError, ZagiError):
        pass  # a read-only ZAGI_HOME: ask again next time
    return system


# The systems nixpkgs builds for that a project might name (Nix's own spelling).
SYSTEMS = ("x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin", "i686-linux",
           "armv7l-linux", "riscv64-linux", "powerpc64le-linux")


def check_system(name: str) -> str:
    """`name` if it is a Nix system string, else BadInput listing the real ones."""
    if name not in SYSTEMS:
        raise BadInput(f"--system {name!r}: not a Nix system{did_you_mean(name, SYSTEMS)}; "
                       f"expected one of: {', '.join(SYSTEMS)}")
    return name


def _require() -> None:
    if not available():
        raise ToolMissing("Nix is not installed (nix-instantiate and nix-store not on PATH)",
                        hint="run `zagi doctor`; on Debian: sudo apt-get install nix-bin")


def _failure(what: str, res: proc.Result, kind: type[NixError] = NixBuildError) -> NixError:
    err = res.stderr
    drv = None
    if m := re.search(r"builder for '(/nix/store/[^']+\.drv)' failed", err):
        drv = m.group(1)
    log_path = None
    if drv:
        base = Path(drv).name
        cand = Path("/nix/var/log/nix/drvs") / base[:2] / f"{base[2:]}.bz2"
        log_path = str(cand) if cand.exists() else None
    tail = "\n".join(err.strip().splitlines()[-_LOG_LINES:])
    msg = f"{what} failed" + (f": {drv}" if drv else "")
    hint = f"full log: nix-store --read-log {drv}" if drv else None
    return kind(msg, hint=hint, drv=drv, log_tail=tail, log_path=log_path,
                    details={"drv": drv, "log_tail": tail, "log_path": log_path})


def _run(argv: Sequence[str], what: str, timeout: float = 600.0,
         kind: type[NixError] = NixError) -> str:
    _require()
    res = proc.run(argv, timeout=timeout)
    if not res.ok:
        raise _failure(what, res, kind)
    return res.stdout


def eval_json(template: Path, args: dict[str, str], argstrs: dict[str, str],
              opts: Options) -> Any:
    """nix-instantiate --eval --strict --json of a template with --arg/--argstr values."""
    argv = ["nix-instantiate", "--eval", "--strict", "--json", str(template), *opts.argv()]
    for k, v in args.items():
        argv += ["--arg", k, v]
    for k, v in argstrs.items():
        argv += ["--argstr", k, v]
    return json.loads(_run(argv, "nix evaluation", kind=NixEvalError))


def instantiate(template: Path, args: dict[str, str], argstrs: dict[str, str],
                opts: Options) -> tuple[str, str]:
    """Evaluate to a derivation without building: (drv path, output path)."""
    argv = ["nix-instantiate", str(template), *opts.argv()]
    for k, v in args.items():
        argv += ["--arg", k, v]
    for k, v in argstrs.items():
        argv += ["--argstr", k, v]
    drv = _run(argv, "nix evaluation", kind=NixEvalError).strip().splitlines()[-1]
    out = _run(["nix-store", "--query", "--outputs", drv], "nix-store --query").split()[0]
    return drv, out


Event = Callable[[str, str], None]  # ("build" | "fetch", store path) as Nix starts each


def build(template: Path, args: dict[str, str], argstrs: dict[str, str], opts: Options,
          on_event: Event | None = None) -> list[str]:
    """nix-build --no-out-link of a template that gives a list of (output) derivations:
    their output paths, built or substituted (no GC root: the caller composes and roots)."""
    argv = ["nix-build", "--no-out-link", str(template), *opts.argv()]
    for k, v in args.items():
        argv += ["--arg", k, v]
    for k, v in argstrs.items():
        argv += ["--argstr", k, v]
    _require()
    res = proc.stream(argv, _events(on_event), timeout=BUILD_TIMEOUT)
    if not res.ok:
        kind = NixEvalError if "error:" in res.stderr and "building '" not in res.stderr \
            else NixBuildError
        raise _failure("nix build", res, kind)
    return res.stdout.split()


def _events(on_event: Event | None) -> Callable[[str], None]:
    """A reader of Nix's stderr lines that reports each build and fetch as it starts."""

    def line(text: str) -> None:
        if on_event is None:
            return
        if m := re.match(r"building '(/nix/store/[^']+)'", text):
            on_event("build", m.group(1))
        elif m := re.match(r"copying path '(/nix/store/[^']+)' from", text):
            on_event("fetch", m.group(1))

    return line


def realise(drv: str, opts: Options, root: Path | None = None, on_event: Event | None = None) -> str:
    """Build (or substitute) a derivation's output; with `root`, register an indirect GC root.

    `on_event` hears each derivation Nix starts building and each path it starts fetching.
    """
    argv = ["nix-store", "--realise", drv, *opts.argv()]
    if root is not None:
        argv += ["--add-root", str(root)]
    _require()

    res = proc.stream(argv, _events(on_event), timeout=BUILD_TIMEOUT)
    if not res.ok:
        raise _failure("nix build", res)
    out = res.stdout.strip().splitlines()
    return out[-1] if out else drv


def closure(out: str) -> list[PathInfo]:
    """Every path in the runtime closure of `out`, with NarHash and NarSize, sorted.

    One `nix path-info` process (each Nix process costs ~30 ms; this is on the path of
    every cached clone)."""
    raw = json.loads(_run([*_NIX_CMD, "path-info", "--json", "--recursive", out],
                          "nix path-info"))
    # Nix < 2.19 prints a list of objects; newer Nix an object keyed by path.
    items = [(i.get("path"), i) for i in raw] if isinstance(raw, list) else list(raw.items())
    infos = []
    for path, info in items:
        if not isinstance(path, str) or not isinstance(info, dict) or "narHash" not in info:
            raise ZagiError(f"nix path-info returned an incomplete record for {out}")
        infos.append(PathInfo(path, _nix32_hash(str(info["narHash"])), int(info["narSize"])))
    return sorted(infos, key=lambda p: p.path)


def _nix32_hash(text: str) -> str:
    """A NarHash as the lock writes it ("sha256:<nix32>"), from SRI ("sha256-<base64>")."""
    import base64

    from zagi.formats.nar import nix32

    if text.startswith("sha256-"):
        return "sha256:" + nix32(base64.b64decode(text.removeprefix("sha256-")))
    return text


def is_valid(path: str) -> bool:
    """Is `path` a valid (registered, complete) store path?"""
    if not available() or not Path(path).exists():
        return False  # a valid path exists on disk: no process needed to say "no"
    return proc.run(["nix-store", "--check-validity", path], timeout=60).ok


def invalid(paths: list[str]) -> set[str]:
    """Which of `paths` are not valid store paths (one process for all of them)."""
    if not paths:
        return set()
    if not available():
        return set(paths)
    return set(_run(["nix-store", "--check-validity", "--print-invalid", *paths],
                    "nix-store").split())


def hash_path(path: Path) -> str:
    """sha256 (nix32) of a directory's NAR serialisation, as fetchTarball's sha256 expects."""
    return _run(["nix-hash", "--type", "sha256", "--base32", str(path)], "nix-hash").strip()


def version() -> str:
    """Nix's version ("2.8.0"), or "unknown"."""
    res = proc.run(["nix", "--version"], timeout=20)
    return res.stdout.strip().rsplit(" ", 1)[-1] if res.ok else "unknown"


def show_config() -> dict[str, str]:
    """Nix's effective settings (`nix show-config`), as the client sees them; {} if unavailable."""
    res = proc.run([*_NIX_CMD, "show-config"],
                   timeout=20)
    if not res.ok:
        return {}
    out: dict[str, str] = {}
    for line in res.stdout.splitlines():
        k, sep, v = line.partition(" = ")
        if sep:
            out[k.strip()] = v.strip()
    return out


def sandboxed() -> bool:
    """Does this Nix build in its sandbox? (Debian's nix-bin ships `sandbox = false`.)"""
    return show_config().get("sandbox", "false") in ("true", "relaxed")


def collect_garbage(dry_run: bool = False) -> str:
    argv = ["nix-store", "--gc", *(["--print-dead"] if dry_run else [])]
    return _run(argv, "nix-store --gc", timeout=BUILD_TIMEOUT)


def prefetch_tarball(url: str) -> str:
    """sha256 (nix32) of an unpacked tarball, as fetchTarball wants it (needs the network).

    A failed download is the common case offline, so it gets its own message: Nix's
    retry warnings say nothing the final line does not.
    """
    _require()
    # `--name source`: the store path fetchTarball computes for the same hash, so the
    # evaluation finds the tree already there instead of downloading it a second time.
    res = proc.run(["nix-prefetch-url", "--unpack", "--name", "source", "--type", "sha256", url],
                   timeout=1800)
    if not res.ok:
        last = (res.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise NixFetchError(f"could not fetch nixpkgs from {url}",
                       hint="zagi lock downloads each nixpkgs revision once, then Nix keeps it; "
                            "check the network (or, offline, use the stand-in package set: "
                            "ZAGI_NIXPKGS=fixtures/nixpkgs)",
                       log_tail=last.removeprefix("error: "), details={"url": url})
    return res.stdout.strip().splitlines()[-1]


def would_build(drv: str, opts: Options) -> tuple[list[str], list[str]]:
    """(derivations Nix would build, paths it would fetch) to realise `drv`; nothing runs."""
    _require()
    res = proc.run(["nix-store", "--realise", "--dry-run", drv, *opts.argv()], timeout=600)
    if not res.ok:
        raise _failure("nix dry run", res, NixEvalError)
    built: list[str] = []
    fetched: list[str] = []
    bucket: list[str] | None = None
    for line in res.stderr.splitlines():
        if "will be built" in line:
            bucket = built
        elif "will be fetched" in line:
            bucket = fetched
        elif line.startswith("  /nix/store/") and bucket is not None:
            bucket.append(line.strip())
        else:
            bucket = None
    return built, fetched


@dataclass(frozen=True)
class Meta:
    references: tuple[str, ...]  # full store paths, sorted
    deriver: str | None


def meta(paths: list[str]) -> dict[str, Meta]:
    """References and deriver of each valid store path: one `nix path-info` for all of
    them (a process per path cost 35 ms each on the publish path)."""
    if not paths:
        return {}
    raw = json.loads(_run([*_NIX_CMD, "path-info", "--json", *paths], "nix path-info"))
    items = [(i.get("path"), i) for i in raw] if isinstance(raw, list) else list(raw.items())
    out: dict[str, Meta] = {}
    for path, info in items:
        if not isinstance(path, str) or not isinstance(info, dict) or "narHash" not in info:
            raise ZagiError(f"nix path-info returned an incomplete record for {path}")
        refs = info.get("references") or []
        drv = info.get("deriver")
        out[path] = Meta(tuple(sorted(str(r) for r in refs)),
                         str(drv) if drv and drv != "unknown-deriver" else None)
    if missing := sorted(set(paths) - set(out)):
        raise ZagiError(f"{missing[0]} is not a valid store path")
    return out


def dump(path: str) -> Iterator[bytes]:
    """The NAR of a store path, streamed from `nix-store --dump`: Nix's own serialiser
    runs in its own process, beside zagi's hashing and compression (two cores, not
    one GIL), and reads the store as the user may."""
    _require()
    yield from proc.read(["nix-store", "--dump", path], timeout=BUILD_TIMEOUT)


DEFAULT_SOCKET = "/nix/var/nix/daemon-socket/socket"


@dataclass(frozen=True)
class StoreInfo:
    """How this user reaches the Nix store, and what the store lets them do.

    Read from the client's view of nix.conf (`nix show-config`): a daemon that reads
    another nix.conf than its clients is a misconfiguration Nix itself warns about.
    """

    daemon: bool
    socket: str | None  # the daemon's socket (None: a store this process opens itself)
    trusted: bool  # may set restricted settings (substituters, trusted-public-keys)
    why: str  # how `trusted` was decided, for `zagi doctor`
    substituters: tuple[str, ...] = ()
    trusted_substituters: tuple[str, ...] = ()
    trusted_public_keys: tuple[str, ...] = ()

    def trusts_key(self, name: str) -> bool:
        """Is a key with this name in the store's trusted-public-keys?"""
        return any(k.split(":", 1)[0] == name for k in self.trusted_public_keys)


def _daemon_socket() -> str | None:
    """The socket Nix will use, as Nix decides it: NIX_REMOTE, else `auto` (a store we
    cannot write, and a daemon socket that exists)."""
    import os

    remote = os.environ.get("NIX_REMOTE", "")
    default = os.environ.get("NIX_DAEMON_SOCKET_PATH") or DEFAULT_SOCKET
    if remote == "daemon":
        return default
    if remote.startswith("unix://"):
        return remote.removeprefix("unix://").split("?", 1)[0] or default
    if remote not in ("", "auto"):
        return None  # local, a chroot store path, ...
    store = Path("/nix/store")
    writable = os.access(store, os.W_OK) if store.exists() else os.access("/", os.W_OK)
    return default if not writable and Path(default).exists() else None


def _in_trusted_users(entries: list[str]) -> tuple[bool, str]:
    import grp
    import os
    import pwd

    user = pwd.getpwuid(os.getuid()).pw_name
    groups = {grp.getgrgid(g).gr_name for g in os.getgroups() if _has_group(g)}
    groups.add(grp.getgrgid(os.getgid()).gr_name if _has_group(os.getgid()) else "")
    for e in entries:
        if e == "*" or e == user:
            return True, f"{user} matches trusted-users entry {e!r}"
        if e.startswith("@") and e[1:] in groups:
            return True, f"{user} is in group {e[1:]} (trusted-users {e!r})"
    return False, f"{user} is not in trusted-users ({' '.join(entries) or 'empty'})"


def _has_group(gid: int) -> bool:
    import grp

    try:
        grp.getgrgid(gid)
    except KeyError:
        return False
    return True


def _ping_trusted() -> bool | None:
    """Nix >= 2.19 says itself whether the daemon trusts us; None on older Nix."""
    parts = [int(x) for x in re.findall(r"\d+", version())[:2]]
    if len(parts) < 2 or tuple(parts) < (2, 19):
        return None
    res = proc.run([*_NIX_CMD, "store", "ping",
                    "--json"], timeout=20)
    if not res.ok:
        return None
    try:
        trusted = json.loads(res.stdout).get("trusted")
    except (ValueError, AttributeError):
        return None
    return None if trusted is None else bool(trusted)


def store_info(full: bool = True) -> StoreInfo:
    """Daemon or direct store, trusted or not, and the caches and keys Nix uses.

    `full=False` skips asking Nix (~50 ms) when the answer does not need it: a store this
    process opens itself is trusted whatever nix.conf says."""
    socket = _daemon_socket()
    if socket is None and not full:
        return StoreInfo(False, None, True, "the store is opened directly (single-user)")
    cfg = show_config()

    def listed(name: str) -> tuple[str, ...]:
        return tuple(cfg.get(name, "").split())

    if socket is None:
        trusted, why = True, "the store is opened directly (single-user): its settings are yours"
    elif (pinged := _ping_trusted()) is not None:
        trusted, why = pinged, f"the daemon says {'trusted' if pinged else 'not trusted'}"
    else:
        trusted, why = _in_trusted_users(list(listed("trusted-users")))
    return StoreInfo(socket is not None, socket, trusted, why, listed("substituters"),
                     listed("trusted-substituters"), listed("trusted-public-keys"))


def copy_from(url: str, paths: list[str], keys: list[str], store: StoreInfo,
              on_event: Event | None = None, recursive: bool = True) -> None:
    """Copy `paths` and their closures from the binary cache at `url`, read by this
    process (so the daemon need not trust the cache URL). The store checks signatures
    against its trusted-public-keys; `keys` are added to those only for a trusted user
    (an untrusted user's keys would be ignored, with a warning)."""
    # --no-recursive: exactly these paths (their references are already valid, e.g.
    # substituted from the user's caches); else their closures from this cache
    argv = [*_NIX_CMD, "copy", "--from", url, *([] if recursive else ["--no-recursive"]),
            *paths]
    if store.trusted and keys:
        argv += ["--option", "extra-trusted-public-keys", " ".join(keys)]
    _require()

    # Each copy keeps its narinfo lookups in a private cache dir: Nix's shared one
    # (~/.cache/nix/binary-cache-v6.sqlite) is not safe for several processes meeting a
    # new cache URL at once ("constraint failed"), and zagi's staging URLs are gone
    # after the fetch, so they have no business in the user's cache.
    with tempfile.TemporaryDirectory(prefix="zagi-nix-cache-") as private:
        res = proc.stream(argv, _events(on_event), timeout=BUILD_TIMEOUT,
                          env={"XDG_CACHE_HOME": private})
    if not res.ok:
        raise _failure(f"copying from {url}", res, NixFetchError)


def substitute(paths: list[str], on_event: Event | None = None) -> bool:
    """Fetch each path (and its closure) from the caches the user configured, evaluating
    nothing; False when they do not have one of them (Nix cannot build a bare path)."""
    missing = [p for p in paths if not is_valid(p)]
    if not missing:
        return True
    _require()
    return proc.stream(["nix-store", "--realise", *missing], _events(on_event),
                       timeout=BUILD_TIMEOUT).ok


def fixed_output_path(sha256_nix32: str, name: str = "source") -> str:
    """The store path of a tree fetched with that (recursive, sha256) hash, as
    fetchTarball names it: computed, not asked (one Nix process per source is ~30 ms).
    Nix's makeFixedOutputPath: makeStorePath("source", hash, name)."""
    import hashlib

    from zagi.formats.nar import nix32, nix32_decode

    digest = nix32_decode(sha256_nix32.removeprefix("sha256:"))
    fingerprint = f"source:sha256:{digest.hex()}:/nix/store:{name}".encode()
    full = hashlib.sha256(fingerprint).digest()
    folded = bytearray(20)
    for i, byte in enumerate(full):  # Nix's compressHash: XOR-fold to 160 bits
        folded[i % 20] ^= byte
    return f"/nix/store/{nix32(bytes(folded))}-{name}"
