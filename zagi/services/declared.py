"""What a project declares in [services], resolved: versions (from env.lock), ports,
database and user; and the connection variables the env exports for them.

Resolved once per sync and written to $ZAGI_HOME/projects/<root>/services.json, so
`zagi up`, `down` and `services` on a synced project read one small JSON file instead
of validating env.toml and env.lock again (bench/services.py). Anything else (never
synced, or env.toml changed since) resolves from the files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zagi.core import layout
from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write
from zagi.core.layout import Project
from zagi.services.kinds import KINDS, Instance

if TYPE_CHECKING:
    from zagi.formats.spec import EnvSpec

FILE = "services.json"
FORMAT = 1


@dataclass(frozen=True)
class Service:
    version: str
    port: int
    database: str
    user: str


@dataclass(frozen=True)
class Declared:
    names: list[str]  # every [services] key, in the file's order (runnable or not)
    services: dict[str, Service]  # the ones zagi runs
    autostart: bool = False
    env_keys: list[str] = field(default_factory=list)  # [env] names, which win over ours

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "names": self.names, "autostart": self.autostart,
                "env_keys": self.env_keys,
                "services": {n: asdict(s) for n, s in self.services.items()}}


def declared(project: Project) -> Declared:
    """The project's services: from services.json when the last sync saw exactly this
    env.toml, else resolved from env.toml (and env.lock) now."""
    found = cached(project)
    return found if found is not None else resolve(project, _load_spec(project))


def _load_spec(project: Project) -> EnvSpec:
    from zagi.formats import spec as specfile

    return specfile.load(project.env_toml)


def cached(project: Project) -> Declared | None:
    """services.json, when the last sync saw exactly this env.toml; else None."""
    synced = layout.read_synced(project)
    raw = layout.read_regular(project.env_toml)
    if synced is None or raw is None or synced[1] != layout.spec_digest(raw):
        return None
    try:
        doc = json.loads((layout.project_dir(project.root) / FILE).read_text())
        if doc.get("format") != FORMAT:
            return None
        return Declared(list(doc["names"]),
                        {n: Service(str(s["version"]), int(s["port"]), str(s["database"]),
                                    str(s["user"])) for n, s in doc["services"].items()},
                        bool(doc["autostart"]), list(doc["env_keys"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing or not ours: resolve from the files


def resolve(project: Project, spec: EnvSpec) -> Declared:
    versions = _locked_versions(project)
    given = ports(project, spec)
    default_db = ident(spec.project.name if spec.project else project.root.name)
    services = {}
    for name in spec.services:
        if name not in KINDS:
            continue
        s = spec.service(name)
        db = s.database or default_db
        services[name] = Service(versions.get(name) or s.version, given[name], db, s.user or db)
    return Declared(list(spec.services), services,
                    bool(spec.project and spec.project.autostart), sorted(spec.env))


def ident(text: str) -> str:
    """A project name as a database identifier: lowercase letters, digits and _."""
    s = re.sub(r"[^a-z0-9_]", "_", text.lower()).strip("_") or "app"
    return ("db_" + s if s[0].isdigit() else s)[:63]


def _locked_versions(project: Project) -> dict[str, str]:
    from zagi.formats import lockfile

    try:
        lk = lockfile.read(project.lock)
    except (OSError, ZagiError):
        return {}
    return {n: p.version or p.request for n, p in lk.packages.items() if p.kind == "service"}


def select(decl: Declared, names: list[str] | None) -> list[str]:
    """The services asked for (all declared by default); unknown names are bad input."""
    for n in names or []:
        if n not in decl.names:
            from zagi.core.names import did_you_mean  # difflib: only for the error

            known = did_you_mean(n, decl.names) if decl.names else ""
            raise BadInput(f"{n!r} is not a service of this project{known}",
                           hint=f"its services: {', '.join(decl.names)}" if decl.names
                           else "declare one in .zagi/env.toml [services], e.g. postgres = \"16\"")
    chosen = list(names or decl.names)
    if not chosen:
        raise BadInput("this project declares no services",
                       hint="add one: zagi add --service postgres@16 (docs/services.md)")
    for n in chosen:
        if n not in KINDS:
            raise BadInput(f"zagi cannot run {n} yet; it runs: {', '.join(KINDS)}",
                           hint=f"{n}'s programs are on the env's PATH; start it yourself")
    return chosen


# --- ports --------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        # As the servers bind: SO_REUSEADDR, so connections of the last run in TIME_WAIT
        # do not count, while a program listening there still does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ports(project: Project, spec: EnvSpec) -> dict[str, int]:
    """name -> port: the one the spec sets, else the one this project was given before,
    else a new one that no other project holds and nothing listens on (recorded in a
    registry all projects share, under a file lock)."""
    home = layout.services_home()
    key = layout.project_key(project.root)
    registry = home / "ports.json"
    with _locked(home / ".ports.lock"):
        try:
            held: dict[str, str] = json.loads(registry.read_text())
        except (OSError, ValueError):
            held = {}
        mine = {owner.split("/", 1)[1]: int(p) for p, owner in held.items()
                if owner.startswith(key + "/")}
        out: dict[str, int] = {}
        changed = False
        for name in spec.services:
            if name not in KINDS:
                continue
            fixed = spec.service(name).port
            if fixed:
                out[name] = fixed
            elif name in mine:
                out[name] = mine[name]
            else:
                start = 20000 + int(key, 16) % 20000
                port = next(p for p in range(start, start + 2000)
                            if str(p) not in held and port_free(p))
                held[str(port)] = f"{key}/{name}"
                out[name] = port
                changed = True
        if changed:
            atomic_write(registry, json.dumps(held, indent=1, sort_keys=True) + "\n")
    return out


# --- where each service lives -------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where one project's services keep state (base) and sockets."""

    base: Path
    sockets: Path

    def log(self, name: str) -> Path:
        return self.base / "logs" / f"{name}.log"


def where(project: Project) -> Place:
    key = layout.project_key(project.root)
    return Place(layout.services_home() / key, layout.runtime_dir() / key)


def instances(project: Project, decl: Declared, out: str | None) -> dict[str, Instance]:
    """Every runnable declared service, resolved (pkg is empty when no env `out` given)."""
    w = where(project)
    found: dict[str, Instance] = {}
    for name, s in decl.services.items():
        kind = KINDS[name]
        pkg = _package(out, kind.program) if out else Path()
        found[name] = Instance(
            name=name, version=s.version, pkg=pkg,
            data=w.base / "data" / f"{name}-{kind.major(s.version)}",
            sockets=w.sockets / name, run=w.base / "run", port=s.port,
            database=s.database, user=s.user)
    return found


def _package(out: str, program: str) -> Path:
    """The store path of the package that provides `program` in the env `out`."""
    try:
        real = (Path(out) / "bin" / program).resolve(strict=True)
    except OSError:
        return Path()
    store = Path(out).parent
    return next((p for p in real.parents if p.parent == store), Path())


# --- connection variables (activation) ---------------------------------------------


def connection_env(project: Project, decl: Declared) -> dict[str, str]:
    """What programs in the env need to reach its services; [env] entries win."""
    env: dict[str, str] = {}
    sql: list[str] = []
    for inst in instances(project, decl, None).values():
        kind = KINDS[inst.name]
        env.update(kind.env(inst))
        if kind.sql:
            sql.append("POSTGRES_URL" if inst.name == "postgres" else "MYSQL_URL")
    if len(sql) == 1:
        env["DATABASE_URL"] = env[sql[0]]
    return {k: v for k, v in env.items() if k not in decl.env_keys}


def write_state(project: Project, spec: EnvSpec) -> dict[str, str]:
    """At sync: services.json and the autostart marker; returns the project's service
    variables, which sync writes into the project's activation (zagi/env/state.py: per
    project, since two projects with one env have different ports)."""
    d = layout.project_dir(project.root)
    decl = resolve(project, spec)
    env = connection_env(project, decl)
    atomic_write(d / FILE, json.dumps(decl.to_json(), indent=1) + "\n", mode=0o444)
    # The hooks start services on entering the project when it opts in ([project]
    # autostart): a marker here, so they need not read env.toml.
    marker = d / "autostart"
    if env and decl.autostart:
        atomic_write(marker, "", mode=0o444)
    else:
        marker.unlink(missing_ok=True)
    return dict(sorted(env.items()))
