"""Use-cases behind `zagi add` and `zagi remove` (relocking arrives with `zagi lock`)."""

from __future__ import annotations

from pathlib import Path

from zagi.core.errors import BadInput
from zagi.core.layout import Project
from zagi.core.versions import RequestError, parse_request
from zagi.formats import spec


def _split(item: str) -> tuple[str, str]:
    name, _, version = item.partition("@")
    shown = item if len(item) <= 60 else item[:40] + "..."  # never echo a megabyte back
    if not name:
        raise BadInput(f"{shown!r}: expected NAME[@VERSION], e.g. node@20")
    try:
        return name, parse_request(version or "latest").text
    except RequestError as exc:
        raise BadInput(f"{shown!r}: {exc}") from None


def add(project: Path, section: str, items: list[str]) -> list[tuple[str, str | None]]:
    path = Project(project).env_toml
    done: list[tuple[str, str | None]] = []
    for item in items:
        if section == "system":
            spec.add_system_package(path, item)
            done.append((item, None))
        else:
            name, version = _split(item)
            spec.set_entry(path, section, name, version)
            done.append((name, version))
    return done


def remove(project: Path, names: list[str]) -> list[tuple[str, str]]:
    path = Project(project).env_toml
    return [(name, spec.remove_entry(path, name)) for name in names]
