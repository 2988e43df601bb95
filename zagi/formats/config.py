"""config.toml: the user's ($XDG_CONFIG_HOME/zagi/config.toml, trusted) and a project's
(.zagi/config.toml, a suggestion: docs/security.md). One bounded reader for both.

    [cache]
    urls = ["s3://bucket?endpoint=...", "https://cache.example.org"]
    public_keys = ["cache.example.org-1:BASE64..."]

    [nixpkgs]                      # the user's file only
    allowed_sources = ["https://example.org/my-nixpkgs.tar.gz"]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from zagi.core.errors import BadInput
from zagi.core.fsutil import read_bounded

__all__ = ["MAX_CONFIG_BYTES", "load", "strings"]

MAX_CONFIG_BYTES = 1 << 20


def load(path: Path) -> dict[str, Any]:
    """The file's tables ({} when there is none); bad TOML is BadInput naming the file."""
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        return tomllib.loads(read_bounded(path, MAX_CONFIG_BYTES).decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise BadInput(f"not valid TOML ({exc})", file=str(path)) from None


def strings(data: dict[str, Any], table: str, key: str, path: Path) -> list[str]:
    """[table] key as a list of strings ([] when absent); anything else is BadInput."""
    section = data.get(table, {})
    if not isinstance(section, dict):
        raise BadInput(f"[{table}] must be a table", file=str(path))
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"[{table}] {key} must be a list of strings", file=str(path))
    return list(value)
