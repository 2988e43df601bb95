"""Where zagi keeps its state: $ZAGI_HOME (default ~/.zagi) and the XDG config dir."""

from __future__ import annotations

import os
from pathlib import Path

ZAGI_DIR = ".zagi"
ENV_TOML = "env.toml"
ENV_LOCK = "env.lock"


def zagi_home() -> Path:
    """$ZAGI_HOME, else $XDG_DATA_HOME/zagi when XDG is configured, else ~/.zagi."""
    if home := os.environ.get("ZAGI_HOME"):
        return Path(home).expanduser()
    if xdg := os.environ.get("XDG_DATA_HOME"):
        return Path(xdg) / "zagi"
    return Path.home() / ".zagi"


def config_dir() -> Path:
    """User configuration (identities, settings): $XDG_CONFIG_HOME/zagi or ~/.config/zagi."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "zagi"


def env_toml(project: Path) -> Path:
    return project / ZAGI_DIR / ENV_TOML
