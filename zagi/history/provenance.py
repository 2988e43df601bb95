"""`zagi commit`: a git commit with its provenance attached as a git note.

The note (its own ref, refs/notes/zagi, so it never mixes with the user's notes) is JSON:
the env id and the sha256 of env.lock at the commit, the agent that made it (given, or
detected from the variables coding agents set), the prompt and model when given, and
with `--tests CMD` the command run in the env, its exit code and duration. Notes travel
with `git push origin refs/notes/zagi` and `git fetch origin refs/notes/zagi:refs/notes/zagi`
(docs/history.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zagi.core import layout, proc
from zagi.core.errors import BadInput
from zagi.core.fsutil import read_bounded
from zagi.drivers import git

__all__ = ["AGENT_VARS", "Committed", "commit", "detect_agent", "parse", "summary",
           "summary_of"]

# Variables coding agents set in the processes they start (the value of ZAGI_AGENT, when
# it names one, wins: `zagi agent` sets it).
AGENT_VARS = (("CLAUDECODE", "claude-code"), ("CURSOR_AGENT", "cursor"),
              ("CODEX_SANDBOX", "codex"), ("GEMINI_CLI", "gemini-cli"),
              ("AIDER_MODEL", "aider"), ("ZAGI_AGENT", "zagi-agent"))
MAX_TEXT = 64 << 10  # a prompt longer than this is cut (notes are for people and tools)


def detect_agent(environ: Mapping[str, str]) -> str | None:
    named = environ.get("ZAGI_AGENT", "")
    if named and named != "1":
        return named[:100]
    for var, name in AGENT_VARS:
        if environ.get(var):
            return name
    return None


@dataclass
class Committed:
    sha: str
    note: dict[str, Any]


def _tests(root: Path, command: str) -> dict[str, Any]:
    """Run the test command in the project's env (with its secrets, as `zagi run`)."""
    from zagi.env.run import ready_env
    from zagi.secrets.for_run import for_run

    project = layout.Project(root)
    env = ready_env(project)
    values, _ = for_run(project)
    t0 = time.monotonic()
    # its output goes to stderr: stdout is zagi's (the commit, or --json)
    code = proc.call(["sh", "-c", command], {**env, **values}, cwd=root, stdout_to_stderr=True)
    return {"command": command, "exit_code": code, "seconds": round(time.monotonic() - t0, 3)}


def commit(root: Path, message: str, *, all_files: bool, prompt: str | None, model: str | None,
           agent: str | None, tests: str | None) -> Committed:
    if not message.strip():
        raise BadInput("a commit needs a message (-m)")
    note: dict[str, Any] = {"zagi": 1}
    if tests:
        note["tests"] = _tests(root, tests)  # before the commit: what was tested is what lands
    sha = git.commit(root, message, all_files)
    project = layout.Project(root)
    if project.lock.is_file():
        from zagi.drivers import nix
        from zagi.formats.lockfile import MAX_LOCK_BYTES

        raw = read_bounded(project.lock, MAX_LOCK_BYTES)
        note["env_id"] = layout.env_id_of(raw, nix.current_system())
        note["lock_sha256"] = hashlib.sha256(raw).hexdigest()
    note["agent"] = agent or detect_agent(os.environ)
    if prompt:
        note["prompt"] = prompt[:MAX_TEXT]
    if model:
        note["model"] = model[:200]
    git.notes_add(root, sha, json.dumps(note, indent=2, sort_keys=True) + "\n")
    return Committed(sha, note)


def parse(text: str) -> dict[str, Any] | str:
    """A note as stored: zagi's JSON, or (someone else's note) its text."""
    try:
        note = json.loads(text)
    except ValueError:
        return text
    return note if isinstance(note, dict) else text


def summary(text: str) -> str:
    note = parse(text)
    return summary_of(note) if isinstance(note, dict) else " ".join(note.split())[:200]


def summary_of(note: dict[str, Any]) -> str:
    """One line for `zagi log`: agent, model, tests, env."""
    parts = []
    if note.get("agent"):
        parts.append(f"by {note['agent']}")
    if note.get("model"):
        parts.append(f"model {note['model']}")
    t = note.get("tests")
    if isinstance(t, dict):
        parts.append(f"tests `{t.get('command')}` exit {t.get('exit_code')} "
                     f"({t.get('seconds')} s)")
    if note.get("env_id"):
        parts.append(f"env {str(note['env_id'])[:12]}")
    return ", ".join(parts)
