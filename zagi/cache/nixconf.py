"""`zagi cache trust URL KEY`: make a Nix daemon accept a zagi cache.

zagi reads its caches itself and hands the paths to Nix (`nix copy --from`), so for a
user the daemon does not trust, what matters is that the daemon trusts the signing key
(`extra-trusted-public-keys`). The URL goes into `extra-trusted-substituters` too, so
the user may also name the cache to plain Nix (`--option extra-substituters URL`).

Only root may change what the daemon trusts; anyone else gets the lines to add. On NixOS
nix.conf is generated from the system configuration (a symlink into the store), so the
`nix.settings` snippet is printed instead of editing a file that cannot be edited.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from zagi.core.errors import BadInput
from zagi.core.fsutil import atomic_write, read_bounded

__all__ = ["TrustResult", "conf_file", "trust"]

MAX_CONF_BYTES = 1 << 20
_KEY = re.compile(r"^[A-Za-z0-9._+-]{1,100}:[A-Za-z0-9+/]{43}=$")
# One store URI: a scheme Nix or zagi reads, then no whitespace or control character —
# a newline would end the line and start a setting of its own in root's nix.conf.
_URL = re.compile(r"^(https?|file|s3|ssh|ssh-ng)://[!-~]{1,2000}$")
RESTART = ("restart the daemon so it reads nix.conf: sudo systemctl restart nix-daemon "
           "(macOS: sudo launchctl kickstart -k system/org.nixos.nix-daemon)")


@dataclass
class TrustResult:
    file: str
    written: bool  # this run changed nix.conf
    already: bool  # nix.conf already had every line
    lines: list[str] = field(default_factory=list)  # what nix.conf needs (or got)
    nixos: str | None = None  # the configuration.nix snippet, when nix.conf is generated
    next_step: str = RESTART

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "written": self.written, "already": self.already,
                "lines": self.lines, "nixos": self.nixos, "next": self.next_step}


def conf_file() -> Path:
    """The nix.conf the daemon reads: $NIX_CONF_DIR/nix.conf, else /etc/nix/nix.conf."""
    return Path(os.environ.get("NIX_CONF_DIR") or "/etc/nix") / "nix.conf"


def _present(text: str, settings: tuple[str, ...]) -> set[str]:
    """Every value already listed under any of `settings` (plain or extra-)."""
    out: set[str] = set()
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in settings:
            out.update(value.split())
    return out


def trust(url: str, key: str) -> TrustResult:
    if not _KEY.match(key):
        raise BadInput(f"{key!r} is not a Nix public key",
                       hint="expected NAME:BASE64 (44 characters), as `zagi keys generate` prints")
    if not _URL.match(url):
        raise BadInput(f"{url[:80]!r} is not a cache URL",
                       hint="expected one URL: https://..., file:///..., s3://..., with no spaces")
    path = conf_file()
    text = read_bounded(path, MAX_CONF_BYTES).decode(errors="replace") if path.exists() else ""
    want = [("extra-trusted-public-keys", key,
             ("trusted-public-keys", "extra-trusted-public-keys")),
            ("extra-trusted-substituters", url,
             ("trusted-substituters", "extra-trusted-substituters", "substituters",
              "extra-substituters"))]
    missing = [f"{name} = {value}" for name, value, where in want
               if value not in _present(text, where)]
    snippet = (f'nix.settings.trusted-public-keys = [ "{key}" ];\n'
               f'nix.settings.trusted-substituters = [ "{url}" ];')
    res = TrustResult(str(path), False, not missing, missing or [f"{n} = {v}" for n, v, _ in want])
    if not missing:
        res.next_step = "nothing to do: nix.conf already trusts this cache"
        return res
    generated = path.is_symlink() and os.readlink(path).startswith("/nix/store/")
    if generated:
        res.nixos = snippet
        res.next_step = "add to configuration.nix, then: sudo nixos-rebuild switch"
        return res
    if os.geteuid() != 0:
        res.nixos = snippet
        res.next_step = (f"only root changes what the daemon trusts: run `sudo zagi cache trust "
                         f"{url} {key}`, or add these lines to {path}; then {RESTART}")
        return res
    body = text if not text or text.endswith("\n") else text + "\n"
    body += f"# added by `zagi cache trust` for {url}\n" + "".join(f"{ln}\n" for ln in missing)
    atomic_write(path, body, mode=path.stat().st_mode & 0o777 if path.exists() else 0o644)
    res.written = True
    return res
