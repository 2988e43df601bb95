"""The error types every layer raises, as a tree by meaning; only the CLI turns them into text.

Exit codes (documented in docs/cli.md):
  0  success
  1  failure: the command ran into a problem (doctor found issues, a check failed)
  2  bad input or usage: a file or argument is wrong; nothing was written

Callers catch by meaning (`except storage.Conflict`), never by message. Each backend
or driver maps its library's exceptions to these once, at its edge (boto3's
ClientError in zagi/storage/s3.py, a failed git in zagi/drivers/git.py), so nothing
above it sees a foreign exception or has to parse a string.

  ZagiError                   exit 1, message + hint
  ├── BadInput                exit 2: a file or argument is wrong (file:line:column)
  │   └── SpecError           .zagi/env.toml (or a fact file) does not parse or validate
  ├── StorageError            object storage (file://, s3://, http(s)://)
  │   ├── NotFound            the object or bucket is not there (when absence is an error)
  │   ├── Conflict            a conditional write lost: someone else changed it first
  │   ├── ReadOnly            exit 2: the backend cannot be written (http caches)
  │   └── Unavailable         the endpoint failed, timed out or refused us
  ├── NixError                Nix failed; carries the derivation and its log tail
  │   ├── NixEvalError        evaluation (nix-instantiate)
  │   ├── NixBuildError       a build or substitution (nix-store --realise)
  │   └── NixFetchError       a download (nix-prefetch-url)
  ├── NotLocked               the project has no env.lock yet (a state, not bad input)
  ├── GitError                the git CLI failed; carries its last stderr line
  ├── ToolMissing             a program zagi needs is not on PATH
  ├── NeedsBuild              `sync --no-build` (git hooks): the env is in no cache
  ├── CommandNotFound         exit 127: `zagi run -- CMD` found no CMD
  ├── ServiceError            a service would not start, stop or become ready
  │                           (zagi/services/manage.py)
  └── IsolationError          the kernel would not isolate `zagi agent`
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


@dataclass
class ZagiError(Exception):
    """A failure the user can understand and act on (never shown as a traceback)."""

    message: str
    hint: str | None = None
    exit_code: int = EXIT_FAILURE
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message, "exit_code": self.exit_code,
                               "kind": type(self).__name__}
        if self.hint:
            out["hint"] = self.hint
        out.update(self.details)
        return out


@dataclass
class BadInput(ZagiError):
    """The user's input (a file, an argument) is wrong. Exit 2, nothing written."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    exit_code: int = EXIT_BAD_INPUT

    def __str__(self) -> str:
        return f"{self.where()}{self.message}"

    def where(self) -> str:
        if not self.file:
            return ""
        pos = self.file
        if self.line is not None:
            pos += f":{self.line}"
            if self.column is not None:
                pos += f":{self.column}"
        return pos + ": "

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out.update({"file": self.file, "line": self.line, "column": self.column})
        return out


@dataclass
class SpecError(BadInput):
    """env.toml (or another file zagi parses for its meaning) is invalid."""


# --- object storage -------------------------------------------------------------


@dataclass
class StorageError(ZagiError):
    """Object storage failed; `url` names the store (bucket, directory, endpoint)."""

    url: str = ""


@dataclass
class NotFound(StorageError):
    """A required object (or the bucket itself) does not exist."""


@dataclass
class Conflict(StorageError):
    """A conditional write lost the race (If-Match / If-None-Match failed)."""


@dataclass
class ReadOnly(StorageError):
    """This backend cannot be written (e.g. a cache read over http(s))."""

    exit_code: int = EXIT_BAD_INPUT


@dataclass
class Unavailable(StorageError):
    """The endpoint could not be reached or answered with an error."""


# --- external programs ------------------------------------------------------------


@dataclass
class NixError(ZagiError):
    """A Nix evaluation, build or fetch failed; carries what a user needs to act on it."""

    drv: str | None = None
    log_tail: str = ""
    log_path: str | None = None


@dataclass
class NixEvalError(NixError):
    """Evaluating a Nix expression failed (nix-instantiate)."""


@dataclass
class NixBuildError(NixError):
    """Building or substituting failed (nix-store --realise)."""


@dataclass
class NixFetchError(NixError):
    """Downloading a source failed (nix-prefetch-url)."""


@dataclass
class NotLocked(ZagiError):
    """The project has no env.lock (or no realized env) yet: exit 1 from every command
    that needs one, with the command that makes it."""


@dataclass
class GitError(ZagiError):
    """The git CLI failed."""


@dataclass
class ToolMissing(ZagiError):
    """A program zagi needs (nix, git) is not installed."""


@dataclass
class CommandNotFound(ZagiError):
    """`zagi run -- CMD`: CMD is neither in the env nor on PATH (exit 127, as shells)."""

    exit_code: int = 127


@dataclass
class NeedsBuild(ZagiError):
    """`sync --no-build` (the git hooks): the env is in no cache, so it would be built."""


@dataclass
class IsolationError(ZagiError):
    """The kernel refused a namespace or mount `zagi agent` needs; nothing was started."""
