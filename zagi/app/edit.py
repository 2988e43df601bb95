"""Use-cases behind `zagi add` and `zagi remove` (relocking arrives with `zagi lock`)."""

from __future__ import annotations

from pathlib import Path

from zagi.core import spec
from zagi.core.errors import BadInput
from zagi.core.paths import env_toml
from zagi.core.versions import RequestError, parse_request


def _split(item: str) -> tuple[str, str]:
    name, _, version = item.partition("@")
    if not name:
        raise BadInput(f"{item!r}: expected NAME[@VERSION], e.g. node@20")
    try:
        return name, parse_request(version or "latest").text
    except RequestError as exc:
        raise BadInput(f"{item!r}: {exc}") from None


def relock_if_locked(project: Path) -> bool:
    """After an edit, bring env.lock along if the project has one (resolution errors: exit 2)."""
    from zagi.app import locking
    from zagi.app.project import Project
    from zagi.core import nix

    proj = Project(project)
    if not proj.lock.exists():
        return False
    locking.lock(proj, None, nix.Options())
    return True


def add(project: Path, section: str, items: list[str]) -> list[tuple[str, str | None]]:
    path = env_toml(project)
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
    path = env_toml(project)
    return [(name, spec.remove_entry(path, name)) for name in names]
