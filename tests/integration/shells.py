"""Drive a real interactive shell through a pty, as a user at a prompt would."""

from __future__ import annotations

import os
import re

import pexpect

PROMPT = "ZAGI-TEST-PROMPT> "
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")

STARTS = {
    # --norc/-f: no user config; the prompt is a fixed marker; no bracketed paste noise.
    "bash": ["bash", "--norc", "--noprofile", "-i"],
    "zsh": ["zsh", "-f", "-i"],
    "fish": ["fish", "--no-config", "-i"],
}
SETUP = {
    "bash": [f"PS1='{PROMPT}'", "bind 'set enable-bracketed-paste off' 2>/dev/null"],
    "zsh": [f"PS1='{PROMPT}'", "unsetopt PROMPT_SP ZLE", "PROMPT_EOL_MARK=''"],
    "fish": [f"function fish_prompt; echo -n '{PROMPT}'; end", "set -g fish_greeting ''"],
}


class Shell:
    def __init__(self, kind: str, env: dict[str, str], cwd: str) -> None:
        self.kind = kind
        self.n = 0
        full = {**os.environ, **env, "TERM": "dumb"}
        full.pop("PROMPT_COMMAND", None)
        self.p = pexpect.spawn(STARTS[kind][0], STARTS[kind][1:], env=full, cwd=cwd,
                               encoding="utf-8", timeout=60, dimensions=(50, 400))
        self.p.sendline("; ".join(SETUP[kind]) if kind != "fish" else SETUP[kind][0])
        if kind == "fish":
            self.p.sendline(SETUP[kind][1])
        self.sync()

    def sync(self) -> None:
        """Wait until the shell is idle at a fresh prompt (a unique marker echoed back)."""
        marker = f"READY{os.getpid()}{id(self)}"
        self.p.sendline(f"echo {marker}")
        self.p.expect(f"\\n{marker}")
        self.p.expect_exact(PROMPT)

    def run(self, cmd: str) -> str:
        """Type CMD, wait for the next prompt, return what it printed (stdout + stderr).

        A unique marker echoed after the command delimits its output: prompts alone are
        not reliable (fish redraws, and pads lines that lack a newline with a marker).
        """
        self.n += 1
        mark = f"__ZAGI_END_{self.n}__"
        self.p.sendline(f"{cmd}; echo {mark}" if cmd.strip() else f"echo {mark}")
        self.p.expect(f"\n{mark}\r?\n")
        out = _ANSI.sub("", self.p.before)
        self.p.expect_exact(PROMPT)
        hook = _ANSI.sub("", self.p.before)  # what the prompt hook printed, if anything
        lines = out.split("\n")[1:] + hook.split("\n")  # drop the echoed command line
        return "\n".join(ln for ln in lines if ln.strip(" \u23ce")).strip()

    @property
    def pid(self) -> int:
        return int(self.p.pid)

    def close(self) -> None:
        self.p.sendline("exit")
        self.p.close(force=True)
