"""Every path zagi reads or writes, in one place: the project's .zagi/ and $ZAGI_HOME.

Stdlib only and cheap to import: the cached `zagi sync`, `zagi run`'s fast path and
the shell hooks' renderer all use it. The hook scripts (shellhooks/scripts/*) repeat a
few of these names in shell; tests/unit/test_layout.py keeps the two in step.

In a project (committed unless marked local):

  .zagi/env.toml           what the project asks for (hand-edited)
  .zagi/env.lock           what it resolved to, content-hashed (generated)
  .zagi/config.toml        suggested caches (untrusted until the user agrees)
  .zagi/secrets.enc        age-encrypted secrets;  .zagi/recipients  who can read them
  .zagi/env                local: symlink to the realized env's store path
  .zagi/.synced            local: "<env id>\\n<sha256 of env.toml>\\n" of the last sync
  .zagi/.sync.lock         local: flock(2) so one sync runs at a time
  .zagi/.gitignore         keeps the local ones out of git

Under $ZAGI_HOME (default ~/.zagi; $XDG_DATA_HOME/zagi when XDG is configured):

  roots/<env-id>                GC root (symlink -> env output, registered with Nix)
  envs/<env-id>/info.json       out path, system, closure size, created
  envs/<env-id>/activate.*      activation for the hooks, precomputed at sync
  envs/<env-id>/activate.json   the same as data, for `zagi run`, other shells, agents
  envs/<env-id>/last-used       mtime = last sync/activation (for `zagi gc`)
  envs/<env-id>/projects        one project path per line
  allow/<env-id>/<root with / as %>   trust: the hook activates only these
  run/hook.<pid>                per-shell prompt stamps of the hooks
  keys/<name>.sec, .pub         binary-cache signing keys (0600 / public)
  cache/                        the local binary cache (file://)
  mirror/<hash of url>/         verified local copies of s3:// caches for Nix to read

User configuration ($XDG_CONFIG_HOME/zagi, default ~/.config/zagi):

  config.toml                   caches and keys the user trusts
  identity.txt                  the age identity (0600; $ZAGI_IDENTITY overrides)
  recipients/<root with / as %>  the recipients the user confirmed for that project
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ZAGI_DIR = ".zagi"
ENV_TOML = "env.toml"
ENV_LOCK = "env.lock"
CONFIG_TOML = "config.toml"
SECRETS_FILE = "secrets.enc"
RECIPIENTS_FILE = "recipients"
SYNCED = ".synced"
SYNC_LOCK = ".sync.lock"
MOUNT = "env"
# The machine-local files in .zagi/, written to .zagi/.gitignore at the first sync.
LOCAL_FILES = (MOUNT, SYNC_LOCK, SYNCED)

# Activation files per env, written once at sync (shellhooks renders them).
ACTIVATE_JSON = "activate.json"
ACTIVATION_FILES = ("activate.sh", "deactivate.sh", "export.sh",
                    "activate.fish", "deactivate.fish", "export.fish")


# --- the env id ------------------------------------------------------------------


# What the env id covers: what the project asked for and what it resolved to, and the
# output on one system. Not the other systems (adding a platform to the lock changes no
# existing id, so no cache manifest is orphaned and no one is asked to re-allow), not
# the closure listing (the output path names it), not `spec_digest` (a comment edit).
_ID_FIELDS = ("lock_version", "spec_hash", "nixpkgs", "packages", "env", "nixpkgs_config")


def platform_guess() -> str:
    """The Nix system string Python's view of the machine suggests. Wrong where Nix and
    Python disagree (an x86_64 Python under Rosetta, `system = ` in nix.conf): Nix's own
    answer (drivers/nix.py current_system) is cached in `nix_system_file()`."""
    import platform

    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return f"{arch}-{platform.system().lower()}"


def nix_system_file() -> Path:
    return zagi_home() / "nix-system"


def nix_conf_key() -> str:
    """What Nix's `system` setting depends on: the nix.conf files and NIX_CONFIG."""
    parts = []
    for conf in (Path(os.environ.get("NIX_CONF_DIR") or "/etc/nix") / "nix.conf",
                 Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
                 / "nix" / "nix.conf"):
        try:
            parts.append(f"{conf}@{conf.stat().st_mtime_ns}")
        except OSError:
            parts.append(f"{conf}@-")
    parts.append(hashlib.sha256(os.environ.get("NIX_CONFIG", "").encode()).hexdigest()[:12])
    return " ".join(parts)


def cached_system() -> str | None:
    """Nix's system as last asked, if nothing it depends on changed since."""
    try:
        system, _, key = nix_system_file().read_text().partition("\n")
    except (OSError, UnicodeDecodeError):
        return None
    return system if system and key.strip() == nix_conf_key() else None


def this_system() -> str:
    """This machine's Nix system string (x86_64-linux), without starting Nix: the cached
    answer, else the guess (stdlib-only callers; the rest use nix.current_system())."""
    return cached_system() or platform_guess()


def env_id_of(raw: bytes, system: str | None = None) -> str:
    """The env id of a lock on `system` (default: this one): 32 hex digits of the sha256
    of the canonical JSON of the fields above (docs/env-lock.md). Bytes that are not a
    lock get the hash of the bytes; reading the lock then says what is wrong."""
    import json

    try:
        data = json.loads(raw)
        entry = data["systems"].get(system or this_system())
        ident = {k: data.get(k) for k in _ID_FIELDS}
        ident.update(system=system or this_system(),
                     out=entry.get("out") if isinstance(entry, dict) else None)
        body = json.dumps(ident, sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        body = raw
    return hashlib.sha256(body).hexdigest()[:32]


def spec_digest(raw: bytes) -> str:
    """What `.synced` records of env.toml: a change to the file means "look again"."""
    return hashlib.sha256(raw).hexdigest()


MAX_SMALL_FILE = 64 << 20  # env.lock's own limit (zagi/formats/lockfile.py)


def read_checked(path: Path, limit: int) -> tuple[bytes | None, str]:
    """(bytes, "") for a regular file of at most `limit` bytes, else (None, why not).

    Opened O_NONBLOCK and fstat-ed before reading, so a FIFO a repo planted fails at once
    and /dev/zero is never read. The one implementation of this rule: read_regular (the
    stdlib-only fast paths) and zagi.core.fsutil.read_bounded (which raises) both use it.
    """
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"cannot read it: {exc.strerror or exc}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "not a regular file (a FIFO, device or directory); refusing to read it"
        if st.st_size > limit:
            return None, f"implausibly large ({st.st_size} bytes; at most {limit})"
        data = os.read(fd, limit + 1)
        while len(data) <= limit and (more := os.read(fd, limit + 1 - len(data))):
            data += more
    except OSError as exc:
        return None, f"cannot read it: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if len(data) > limit:
        return None, f"implausibly large (more than {limit} bytes)"
    return data, ""


def read_regular(path: Path, limit: int = MAX_SMALL_FILE) -> bytes | None:
    """A regular file's bytes, or None (missing, a FIFO, a device, a directory, too big):
    for the fast paths, which fall back to the full command and its explanations."""
    return read_checked(path, limit)[0]


# --- the project ------------------------------------------------------------------


class Project:
    """A project's root and the paths zagi uses inside it.

    A plain class, not a dataclass: importing dataclasses (and with it inspect) would
    cost the cached `zagi sync` 8 ms, a quarter of its budget (bench/sync.py).
    """

    __slots__ = ("root",)

    def __init__(self, root: Path) -> None:
        self.root = root

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Project) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    @property
    def zagi_dir(self) -> Path:
        return self.root / ZAGI_DIR

    @property
    def env_toml(self) -> Path:
        return self.zagi_dir / ENV_TOML

    @property
    def lock(self) -> Path:
        return self.zagi_dir / ENV_LOCK

    @property
    def mount(self) -> Path:
        return self.zagi_dir / MOUNT

    @property
    def config(self) -> Path:
        return self.zagi_dir / CONFIG_TOML

    @property
    def secrets(self) -> Path:
        return self.zagi_dir / SECRETS_FILE

    @property
    def recipients(self) -> Path:
        return self.zagi_dir / RECIPIENTS_FILE

    @property
    def synced(self) -> Path:
        return self.zagi_dir / SYNCED

    @property
    def sync_lock(self) -> Path:
        return self.zagi_dir / SYNC_LOCK

    @property
    def gitignore(self) -> Path:
        return self.zagi_dir / ".gitignore"


def find_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` with .zagi/env.toml (the hooks use the
    same rule)."""
    here = start.resolve()
    for d in (here, *here.parents):
        if (d / ZAGI_DIR / ENV_TOML).is_file():
            return d
    return None


def read_synced(project: Project) -> tuple[str, str] | None:
    """(env id, env.toml digest) the last sync recorded, or None."""
    raw = read_regular(project.synced, 4096)
    try:
        env_id, digest = (raw or b"").decode().split()
    except (UnicodeDecodeError, ValueError):
        return None
    return env_id, digest


def render_synced(env_id: str, digest: str) -> str:
    return f"{env_id}\n{digest}\n"


# --- $ZAGI_HOME and user config ----------------------------------------------------


def zagi_home() -> Path:
    """$ZAGI_HOME, else $XDG_DATA_HOME/zagi when XDG is configured, else ~/.zagi."""
    if home := os.environ.get("ZAGI_HOME"):
        return Path(home).expanduser()
    if xdg := os.environ.get("XDG_DATA_HOME"):
        return Path(xdg) / "zagi"
    return Path.home() / ".zagi"


def catalog_overlay() -> Path:
    """The user's catalog overlay (`zagi catalog update --channel`): revisions evaluated
    on this machine, consulted beside the shipped catalog, which stays read-only."""
    return zagi_home() / "catalog" / "overlay.json"


def config_dir() -> Path:
    """User configuration (identities, settings): $XDG_CONFIG_HOME/zagi or ~/.config/zagi."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "zagi"


def user_config() -> Path:
    return config_dir() / CONFIG_TOML


def default_identity() -> Path:
    return config_dir() / "identity.txt"


def confirmed_recipients(root: Path) -> Path:
    """The user's record of the recipients they confirmed for the project at `root` (in
    their config dir: outside the repo, and masked in `zagi agent`)."""
    return config_dir() / "recipients" / allow_key(root)


def roots_dir() -> Path:
    return zagi_home() / "roots"


def root_path(env_id: str) -> Path:
    return roots_dir() / env_id


def source_root(env_id: str, n: int) -> Path:
    """The GC root of the env's n-th package-set source (a nixpkgs tree), so a weekly
    `nix-collect-garbage` does not make the next lock download it again."""
    return roots_dir() / f"{env_id}.src{n}"


def roots_of(env_id: str) -> list[Path]:
    """Every GC root zagi holds for an env (its output, its sources)."""
    return [root_path(env_id), *sorted(roots_dir().glob(f"{env_id}.src*"))]


def envs_dir() -> Path:
    return zagi_home() / "envs"


def env_dir(env_id: str) -> Path:
    return envs_dir() / env_id


def allow_dir() -> Path:
    return zagi_home() / "allow"


def allow_key(root: Path) -> str:
    """The trust file's name for a project root (the hooks derive it with ${d//\\//%})."""
    return str(root).replace("/", "%")


def allow_file(env_id: str, root: Path) -> Path:
    return allow_dir() / env_id / allow_key(root)


def run_dir() -> Path:
    return zagi_home() / "run"


def project_dir(root: Path) -> Path:
    """zagi's per-project files under $ZAGI_HOME (services' activation): zagi-written, so
    the hooks may source them; named like the trust file, which the hooks derive too."""
    return zagi_home() / "projects" / allow_key(root)


def project_key(root: Path) -> str:
    """A short stable id of a project root: services' state and socket directories."""
    return hashlib.sha256(str(root).encode()).hexdigest()[:12]


def services_home() -> Path:
    """Where services keep data and logs: $ZAGI_SERVICES_HOME, else /var/lib/zagi/services
    for root (its servers run as an unprivileged user, who cannot enter /root), else
    $ZAGI_HOME/services."""
    if v := os.environ.get("ZAGI_SERVICES_HOME"):
        return Path(v)
    return Path("/var/lib/zagi/services") if os.geteuid() == 0 else zagi_home() / "services"


def runtime_dir() -> Path:
    """Unix sockets: short paths (the 107-byte limit), private to the user."""
    if os.geteuid() == 0:
        return Path("/run/zagi")
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg) and len(xdg) < 40:
        return Path(xdg) / "zagi"
    # Checked before use: a directory of ours, not writable by others (services/manage.py).
    return Path(f"/tmp/zagi-{os.getuid()}")  # noqa: S108


def keys_dir() -> Path:
    return zagi_home() / "keys"


def local_cache_dir() -> Path:
    return zagi_home() / "cache"


def local_cache_url() -> str:
    return f"file://{local_cache_dir()}"


def mirror_dir(source_url: str) -> Path:
    return zagi_home() / "mirror" / hashlib.sha256(source_url.encode()).hexdigest()[:16]


def realized_out(env_id: str) -> str | None:
    """The output an env's GC root points at, if the root and its target exist."""
    try:
        target = os.readlink(root_path(env_id))
    except OSError:
        return None
    return target if os.path.isdir(target) else None
