"""The error types every layer raises; only the CLI turns them into text.

Exit codes (documented in docs/cli.md):
  0  success
  1  failure: the command ran into a problem (doctor found issues, a check failed)
  2  bad input or usage: a file or argument is wrong; nothing was written
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
        out: dict[str, Any] = {"error": self.message, "exit_code": self.exit_code}
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
