"""The secrets `zagi run` gives an app process (never an agent: zagi/env/agent.py)."""

from __future__ import annotations

from zagi.core.errors import ZagiError
from zagi.core.layout import Project
from zagi.secrets.identity import identity_path
from zagi.secrets.store import Store

__all__ = ["for_run", "values_if_readable"]


def for_run(project: Project) -> tuple[dict[str, str], str | None]:
    """The secrets to give an app process, and why there are none (a note) if so."""
    st = Store(project.zagi_dir)
    if not st.exists():
        return {}, None
    try:
        return st.load(), None
    except ZagiError as exc:
        if identity_path().parent.is_dir() and not identity_path().exists():
            return {}, "running without secrets: no identity here (an agent sandbox?)"
        return {}, f"running without secrets: {exc}"


def values_if_readable(project: Project) -> dict[str, str]:
    """The secrets when this process can decrypt them, else {} (for scrubbing, not use)."""
    st = Store(project.zagi_dir)
    try:
        return st.load() if st.exists() else {}
    except ZagiError:
        return {}
