"""env.toml: the pydantic models, the loader, and in-place edits.

Read with tomllib (fast, strict) and validate with pydantic; edit with tomlkit so
that a user's comments and ordering survive `zagi add` / `zagi remove`. Every
error names the file, line and column and what was expected (BadInput, exit 2),
and no edit writes anything unless the edited document validates.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zagi.core.envnames import reserved_reason
from zagi.core.errors import BadInput
from zagi.core.fsutil import atomic_write, read_bounded
from zagi.core.names import SERVICES, TOOLS, did_you_mean
from zagi.core.tomlloc import locate
from zagi.core.versions import RequestError, parse_request

SCHEMA_VERSION = 1
MAX_SPEC_BYTES = 1 << 20
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PKG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
# Variables that would let a repository run code in your shell or every process you
# start (or that zagi itself manages), so [env] may not set them.

# The keys each table may hold; used for "did you mean" before pydantic sees the data.
KNOWN_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {
    (): ("schema", "project", "tools", "system", "services", "tasks", "env", "nix"),
    ("project",): ("name", "autostart"),
    ("system",): ("packages",),
    ("nix",): ("nixpkgs", "flake", "shell", "allow_unfree", "permitted_insecure"),
    ("tools", "*"): ("version", "attr", "nixpkgs", "components", "targets", "extensions"),
    ("services", "*"): ("version", "port", "database", "user"),
    ("tasks", "*"): ("run", "needs", "env", "cwd", "description"),
}
_TASK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$")
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class EntryError(ValueError):
    """A bad entry inside a table; carries the key so the error can point at its line."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _check_request(v: str | None) -> str | None:
    if v is None:
        return None
    try:
        return parse_request(v).text
    except RequestError as exc:
        raise ValueError(str(exc)) from None


def _entry_request(key: str, v: str) -> None:
    try:
        parse_request(v)
    except RequestError as exc:
        raise EntryError(key, str(exc)) from None


def _check_env(v: dict[str, str]) -> dict[str, str]:
    """[env] and a task's env: the same policy (zagi/core/envnames.py) and names."""
    for name in v:
        if why := reserved_reason(name):
            raise EntryError(name, why)
        if not _ENV_NAME.match(name):
            raise EntryError(name, "not a valid environment variable name "
                                   "(expected letters, digits and _, not starting with a digit)")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSpec(_Strict):
    name: str = Field(min_length=1)
    # Start [services] when the env is activated (shell hook, on entering the project)
    # or checked out; never on an idle prompt, never waited for (docs/services.md).
    autostart: bool = False


class ServiceSpec(_Strict):
    """The table form of a service: a version plus how the project connects to it."""

    version: str = "latest"
    port: int | None = Field(default=None, ge=1024, le=65535)
    database: str | None = None
    user: str | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        return _check_request(v) or v

    @field_validator("database", "user")
    @classmethod
    def _ident(cls, v: str | None) -> str | None:
        if v is not None and not _DB_NAME.match(v):
            raise ValueError(f"{v!r}: expected a database identifier (letters, digits, _; "
                             "at most 63, not starting with a digit)")
        return v


class TaskSpec(_Strict):
    """A project task: a command line run by `sh -c` in the env (`zagi task NAME`)."""

    run: str = Field(min_length=1, max_length=8192)
    needs: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    description: str | None = Field(default=None, max_length=500)

    @field_validator("cwd")
    @classmethod
    def _cwd(cls, v: str | None) -> str | None:
        if v is not None and (v.startswith("/") or ".." in Path(v).parts):
            raise ValueError(f"{v!r}: expected a directory inside the project (relative, no ..)")
        return v

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        return _check_env(v)


class ToolSpec(_Strict):
    """The table form of a tool: a version plus options, or an explicit Nix attribute."""

    version: str | None = None
    attr: str | None = None  # escape hatch: this nixpkgs attribute, whatever the catalog says
    nixpkgs: str | None = None  # escape hatch: from this nixpkgs revision
    components: list[str] = Field(default_factory=list)  # rust: clippy, rustfmt, ...
    targets: list[str] = Field(default_factory=list)  # rust: wasm32-unknown-unknown, ...
    extensions: list[str] = Field(default_factory=list)  # php: intl, gd, ...

    _v = field_validator("version")(_check_request)


class SystemSpec(_Strict):
    packages: list[str] = Field(default_factory=list)


class NixSpec(_Strict):
    nixpkgs: str | None = None  # pin override: a nixpkgs revision
    flake: str | None = None  # "." = use the repo's own flake.nix devShell
    shell: str | None = None  # a shell.nix / default.nix to use as the env
    # nixpkgs' config, only as the project asks (never the user's ~/.config/nixpkgs)
    allow_unfree: bool = False
    permitted_insecure: list[str] = Field(default_factory=list)  # e.g. "openssl-1.1.1w"

    @field_validator("permitted_insecure")
    @classmethod
    def _insecure(cls, v: list[str]) -> list[str]:
        for name in v:
            if not _PKG_NAME.match(name):
                raise ValueError(f"{name!r}: expected a package name-version like openssl-1.1.1w")
        return v

    def nixpkgs_config(self) -> dict[str, object]:
        """What the lock records and the template passes as nixpkgs' `config`."""
        out: dict[str, object] = {}
        if self.allow_unfree:
            out["allowUnfree"] = True
        if self.permitted_insecure:
            out["permittedInsecurePackages"] = sorted(set(self.permitted_insecure))
        return out


class EnvSpec(_Strict):
    schema_: int = Field(default=SCHEMA_VERSION, alias="schema")
    project: ProjectSpec | None = None
    tools: dict[str, str | ToolSpec] = Field(default_factory=dict)
    system: SystemSpec = Field(default_factory=SystemSpec)
    services: dict[str, str | ServiceSpec] = Field(default_factory=dict)
    tasks: dict[str, str | TaskSpec] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    nix: NixSpec | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("schema_")
    @classmethod
    def _schema(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(
                f"schema {v} is not supported by this zagi (it reads schema {SCHEMA_VERSION}); "
                "upgrade zagi"
            )
        return v

    @field_validator("tools")
    @classmethod
    def _tools(cls, v: dict[str, str | ToolSpec]) -> dict[str, str | ToolSpec]:
        for name, val in v.items():
            if not _NAME.match(name):
                raise EntryError(name, "expected a tool name of lowercase letters, digits, -_.+")
            has_attr = isinstance(val, ToolSpec) and val.attr is not None
            if name not in TOOLS and not has_attr:
                raise EntryError(
                    name,
                    f"unknown tool{did_you_mean(name, TOOLS)}; known tools: "
                    f"{', '.join(TOOLS)}; for anything else write "
                    f'{name} = {{ attr = "<nixpkgs attribute>" }}'
                )
            if isinstance(val, str):
                _entry_request(name, val)
        return v

    @field_validator("services")
    @classmethod
    def _services(cls, v: dict[str, str | ServiceSpec]) -> dict[str, str | ServiceSpec]:
        for name, req in v.items():
            if name not in SERVICES:
                raise EntryError(
                    name,
                    f"unknown service{did_you_mean(name, SERVICES)}; "
                    f"known services: {', '.join(SERVICES)}",
                )
            if isinstance(req, str):
                _entry_request(name, req)
        return v

    @field_validator("tasks")
    @classmethod
    def _tasks(cls, v: dict[str, str | TaskSpec]) -> dict[str, str | TaskSpec]:
        for name, task in v.items():
            if not _TASK_NAME.match(name):
                raise EntryError(name, "expected a task name of letters, digits and -_.:+")
            if isinstance(task, str) and not task.strip():
                raise EntryError(name, "expected a command line to run")
        return v

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        return _check_env(v)

    def tool_version(self, name: str) -> str | None:
        val = self.tools.get(name)
        return val if isinstance(val, str) else (val.version if val else None)

    def service(self, name: str) -> ServiceSpec:
        """[services] NAME in its table form (a bare string is the version)."""
        val = self.services[name]
        return ServiceSpec(version=val) if isinstance(val, str) else val

    def task(self, name: str) -> TaskSpec:
        val = self.tasks[name]
        return TaskSpec(run=val) if isinstance(val, str) else val


# --- loading ---------------------------------------------------------------


def _toml_error(exc: tomllib.TOMLDecodeError, file: str) -> BadInput:
    # Python 3.11's message ends with "(at line L, column C)"; 3.14 adds attributes.
    msg = str(exc)
    m = re.search(r"\(at line (\d+), column (\d+)\)$", msg)
    line = int(m.group(1)) if m else getattr(exc, "lineno", None)
    col = int(m.group(2)) if m else getattr(exc, "colno", None)
    text = msg[: m.start()].strip() if m else msg
    return BadInput(f"invalid TOML: {text}", file=file, line=line, column=col)


def _unknown_keys(data: dict[str, Any], text: str, file: str) -> None:
    def check(table: Any, where: tuple[str, ...], known_at: tuple[str, ...]) -> None:
        if not isinstance(table, dict):
            return
        known = KNOWN_KEYS[known_at]
        for key in table:
            if key not in known:
                line, col = locate(text, (*where, key))
                what = "table" if not where else "key"
                label = f"[{key}]" if not where else f"{'.'.join(where)}.{key}"
                raise BadInput(
                    f"unknown {what} {label}{did_you_mean(key, known)}; "
                    f"expected one of: {', '.join(known)}",
                    file=file, line=line, column=col,
                )

    check(data, (), ())
    for sub in ("project", "system", "nix"):
        check(data.get(sub), (sub,), (sub,))
    for section in ("tools", "services", "tasks"):
        table = data.get(section)
        if isinstance(table, dict):
            for name, val in table.items():
                check(val, (section, name), (section, "*"))


def validate(data: dict[str, Any], text: str, file: str) -> EnvSpec:
    _unknown_keys(data, text, file)
    try:
        return EnvSpec.model_validate(data)
    except ValidationError as exc:
        errs = exc.errors(include_url=False)
        # `x = "16"` or `x = { ... }`: for a table, the table's own error says what is
        # wrong, not the string branch's "should be a valid string".
        err = errs[0]
        if err["type"] == "string_type" and isinstance(err.get("input"), dict):
            err = next((e for e in errs if e["type"] != "string_type"), err)
        loc = tuple(p for p in err["loc"] if p not in ("str", "ToolSpec", "ServiceSpec", "TaskSpec"))
        loc = tuple("schema" if p == "schema_" else p for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, EntryError):  # a dict-level check: point at the entry itself
            loc = (*loc, cause.key)
        line, col = locate(text, loc) if loc else (None, None)
        where = ".".join(str(p) for p in loc)
        raise BadInput(f"{where}: {msg}" if where else msg, file=file, line=line, column=col) from None


def parse_text(text: str, file: str) -> EnvSpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, file) from None
    except RecursionError:
        raise BadInput("nested too deeply; expected a small TOML file", file=file) from None
    return validate(data, text, file)


def read_text(path: Path) -> str:
    raw = read_bounded(path, MAX_SPEC_BYTES, hint="create it with `zagi init`")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BadInput("not UTF-8 text; expected a UTF-8 TOML file",
                       file=str(path), line=line) from None


def load(path: Path) -> EnvSpec:
    return parse_text(read_text(path), str(path))


# --- editing (tomlkit keeps comments and order) ------------------------------


_held = threading.local()  # per thread: .zagi dirs whose edit lock this thread holds


@contextlib.contextmanager
def editing(path: Path) -> Iterator[None]:
    """Hold the project's edit lock: concurrent `zagi add`/`remove` run one after another,
    each reading what the last one wrote, so no edit is lost. The lock is flock(2) on the
    .zagi directory itself: env.toml is replaced by rename on every write, and a lock
    file would be a new file in a tree a failed edit must leave exactly as it was.
    Re-entrant within a thread (an edit transaction holds it around several edits)."""
    key = str(path.parent.resolve())
    held: set[str] = getattr(_held, "dirs", set())
    if key in held:
        yield
        return
    try:
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield  # no .zagi/: the read that follows says so
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held.dirs = held | {key}
        yield
    finally:
        _held.dirs = held
        os.close(fd)  # releases the lock


def _edit(path: Path, change: Any) -> None:
    import tomlkit  # lazy: only edits pay for it

    with editing(path):
        text = read_text(path)
        parse_text(text, str(path))  # refuse to edit a file that is already broken
        doc = tomlkit.parse(text)
        change(doc, tomlkit)
        new = tomlkit.dumps(doc)
        try:
            parse_text(new, str(path))  # nothing is written unless the result validates
        except BadInput as err:  # about the edit, not a line of the file the user has
            raise BadInput(err.message, hint=err.hint) from None
        atomic_write(path, new)


def set_entry(path: Path, section: str, name: str, version: str) -> None:
    """`zagi add`: set [tools] NAME / [services] NAME to a version request."""

    def change(doc: Any, tk: Any) -> None:
        if section not in doc:
            doc.add(section, tk.table())
        table = doc[section]
        cur = table.get(name)
        if section in ("tools", "services") and isinstance(cur, dict):
            cur["version"] = version  # keep the table form's other options
        else:
            table[name] = version

    _edit(path, change)


def add_system_package(path: Path, package: str) -> None:
    def change(doc: Any, tk: Any) -> None:
        if "system" not in doc:
            doc.add("system", tk.table())
        pkgs = doc["system"].setdefault("packages", tk.array())
        if package not in pkgs:
            pkgs.append(package)

    _edit(path, change)


def remove_entry(path: Path, name: str) -> str:
    """`zagi remove`: drop NAME from [tools], [services] or [system] packages.

    Returns the section it was removed from; BadInput when it is in none.
    """
    spec = load(path)
    if name in spec.tools:
        section = "tools"
    elif name in spec.services:
        section = "services"
    elif name in spec.system.packages:
        section = "system"
    else:
        present = [*spec.tools, *spec.services, *spec.system.packages]
        raise BadInput(f"{name!r} is not in env.toml{did_you_mean(name, present)}",
                       file=str(path))

    def change(doc: Any, tk: Any) -> None:
        if section == "system":
            pkgs = doc["system"]["packages"]
            del pkgs[[str(p) for p in pkgs].index(name)]
        else:
            del doc[section][name]

    _edit(path, change)
    return section
