"""`zagi doctor`: the facts a bug report needs, and for each problem the command that fixes it."""

from __future__ import annotations

import grp
import os
import platform
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import shellhooks
from zagi import __version__
from zagi.core import layout, proc
from zagi.drivers import git, nix

Status = Literal["ok", "warn", "fail", "info"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None


def check_nix() -> list[Check]:
    if not proc.which("nix-build") or not proc.which("nix"):
        return [Check("nix", "fail", "not found on PATH",
                      "sudo apt-get install nix-bin   (or: bash scripts/setup.sh as root)")]
    checks = [Check("nix", "ok", f"{nix.version()} at {proc.which('nix')}")]
    cfg = nix.show_config()
    group = cfg.get("build-users-group", "")
    if group:
        try:
            grp.getgrnam(group)
        except KeyError:
            checks.append(Check("nix build users", "fail", f"group {group!r} does not exist",
                                "sudo bash scripts/setup.sh   (creates nixbld and nixbld1..4)"))
    checks.append(Check("nix sandbox", "info", f"sandbox = {cfg.get('sandbox', 'unknown')}"))
    checks += check_store(nix.store_info())
    return checks


def check_store(store: nix.StoreInfo) -> list[Check]:
    """Daemon or direct store, whether it trusts this user, and whether the caches zagi
    trusts (by key) will be accepted by it (docs/cache.md, "Trust")."""
    out: list[Check] = []
    if store.daemon:
        assert store.socket is not None
        if Path(store.socket).exists():
            out.append(Check("nix store", "ok", f"/nix/store through the nix daemon at "
                                                f"{store.socket}"))
        else:
            out.append(Check("nix store", "fail", f"no nix daemon listens at {store.socket}",
                             "sudo systemctl start nix-daemon   (or check NIX_REMOTE / "
                             "NIX_DAEMON_SOCKET_PATH)"))
    elif os.access("/nix/store", os.W_OK) or not Path("/nix/store").exists():
        out.append(Check("nix store", "ok", "/nix/store opened directly (single-user)"))
    else:
        out.append(Check("nix store", "fail", "/nix/store is not writable and no daemon runs",
                         "run as root, or start the daemon: sudo systemctl start nix-daemon"))
    out.append(Check("nix trust", "info",
                     f"{'trusted' if store.trusted else 'not trusted'}: {store.why}"))
    out.append(Check("nix substituters", "info", " ".join(store.substituters) or "(none)"))
    out.append(Check("nix trusted keys", "info",
                     " ".join(k.split(":", 1)[0] for k in store.trusted_public_keys) or "(none)"))
    out += check_cache_keys(store)
    return out


def check_cache_keys(store: nix.StoreInfo) -> list[Check]:
    """Each key zagi trusts for caches: will Nix accept what it signed?"""
    from zagi.cache import keys as signing_keys
    from zagi.formats import config

    path = layout.user_config()
    mine = [*config.strings(config.load(path), "cache", "public_keys", path),
            *signing_keys.public_keys()]
    out = []
    for key in dict.fromkeys(mine):
        name = key.split(":", 1)[0]
        if store.trusted or store.trusts_key(name):
            how = "you are trusted" if store.trusted else "the daemon trusts it"
            out.append(Check(f"cache key {name}", "ok", f"caches signed by it are used ({how})"))
        else:
            out.append(Check(f"cache key {name}", "warn",
                             "the nix daemon does not trust this key and does not trust you: "
                             "zagi builds instead of fetching what it signed",
                             f"sudo zagi cache trust URL {key}   (then restart the daemon)"))
    return out


def check_git() -> Check:
    if not git.available():
        return Check("git", "fail", "not found on PATH", "sudo apt-get install git")
    return Check("git", "ok", git.version())


def check_sandbox() -> Check:
    if not proc.which("bwrap"):
        return Check("agent sandbox", "warn", "bubblewrap (bwrap) not found: `zagi agent` "
                     "will refuse to start", "sudo apt-get install bubblewrap")
    return Check("agent sandbox", "ok", f"bubblewrap at {proc.which('bwrap')}")


def check_home() -> list[Check]:
    home = layout.zagi_home()
    src = "$ZAGI_HOME" if os.environ.get("ZAGI_HOME") else "default"
    probe = home if home.exists() else next((p for p in home.parents if p.exists()), Path("/"))
    if not os.access(probe, os.W_OK):
        return [Check("ZAGI_HOME", "fail", f"{home} ({src}) is not writable",
                      f"export ZAGI_HOME=~/.zagi   (or: sudo chown -R $USER {home})")]
    out = [Check("ZAGI_HOME", "ok", f"{home} ({src}{'' if home.exists() else ', not created yet'})")]
    cache = layout.local_cache_dir()
    out.append(Check("caches", "info",
                     f"local file://{cache}{'' if cache.exists() else ' (empty)'}; "
                     f"user config {layout.user_config()}"))
    kdir = layout.keys_dir()
    keys = sorted(kdir.glob("*.sec")) if kdir.is_dir() else []
    for key in keys:
        mode = key.stat().st_mode & 0o777
        if mode & 0o077:
            out.append(Check(f"key {key.stem}", "fail", f"{key} is mode {mode:o}",
                             f"chmod 600 {key}"))
        else:
            out.append(Check(f"key {key.stem}", "ok", str(key)))
    if not keys:
        out.append(Check("signing keys", "info", "none yet"))
    return out


def check_shells() -> list[Check]:
    out: list[Check] = []
    for shell, rc in shellhooks.RC_FILES.items():
        path = shellhooks.rc_file(shell)
        if not proc.which(shell):
            out.append(Check(f"shell {shell}", "info", "not installed"))
            continue
        try:
            hooked = bool(re.search(r"zagi\s+hook|use_zagi", path.read_text(errors="replace")))
        except OSError:
            hooked = False
        out.append(Check(f"shell {shell}", "info",
                         f"installed; zagi hook {'found' if hooked else 'not found'} in {rc}",
                         None if hooked else f"zagi hook {shell} --install"))
    return out


def run() -> list[Check]:
    checks = [Check("zagi", "ok", f"{__version__} (Python {platform.python_version()}, "
                                  f"{sys.executable})")]
    checks += check_nix()
    checks.append(check_git())
    checks.append(check_sandbox())
    checks += check_home()
    checks += check_shells()
    return checks


def to_json(checks: list[Check]) -> dict[str, object]:
    return {"checks": [asdict(c) for c in checks],
            "problems": sum(c.status == "fail" for c in checks)}
