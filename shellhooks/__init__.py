"""Shell integration: the hook scripts (package data) and the one place they are rendered.

The scripts run inside the user's shell on every prompt, so they are hand-written
shell, checked by tests in real bash, zsh, fish and direnv. Rendering only fills in
two values (ZAGI_HOME and the zagi executable), shell-quoted here and nowhere else.
"""

from __future__ import annotations

import shlex
from importlib import resources
from pathlib import Path

from shellhooks.activation import fish_quote

__all__ = ["INSTALL_LINES", "RC_FILES", "SHELLS", "activation", "rc_file", "render"]

SHELLS = ("bash", "zsh", "fish", "direnv")
_FILES = {"bash": "bash.sh", "zsh": "zsh.zsh", "fish": "fish.fish", "direnv": "direnv.sh"}
RC_FILES = {"bash": "~/.bashrc", "zsh": "~/.zshrc", "fish": "~/.config/fish/config.fish",
            "direnv": "~/.config/direnv/direnvrc"}
# What `zagi hook SHELL --install` adds; {exe} is this zagi's absolute path, so a new shell
# finds it even when zagi is not on that shell's PATH.
INSTALL_LINES = {"bash": 'eval "$({exe} hook bash)"', "zsh": 'eval "$({exe} hook zsh)"',
                 "fish": "{exe} hook fish | source"}


def rc_file(shell: str) -> Path:
    """The rc file the hook goes into (fish and direnv honour $XDG_CONFIG_HOME)."""
    import os

    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg and shell in ("fish", "direnv"):
        return Path(xdg) / RC_FILES[shell].removeprefix("~/.config/")
    return Path(os.path.expanduser(RC_FILES[shell]))


def render(shell: str, zagi_home: Path, exe: str) -> str:
    if shell not in _FILES:
        raise ValueError(shell)
    text = resources.files("shellhooks").joinpath(f"scripts/{_FILES[shell]}").read_text()
    quote = fish_quote if shell == "fish" else shlex.quote
    return text.replace("@ZAGI_HOME@", quote(str(zagi_home))).replace("@ZAGI_EXE@", quote(exe))
