"""Finding the project: the nearest directory at or above a start that has .zagi/env.toml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zagi.core.errors import BadInput
from zagi.core.paths import ENV_LOCK, ENV_TOML, ZAGI_DIR


@dataclass(frozen=True)
class Project:
    root: Path

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
        return self.zagi_dir / "env"


def find(start: Path) -> Project:
    here = start.resolve()
    for d in (here, *here.parents):
        if (d / ZAGI_DIR / ENV_TOML).is_file():
            return Project(d)
    raise BadInput(f"no .zagi/env.toml in {here} or any parent directory",
                   hint="create one with `zagi init`")
