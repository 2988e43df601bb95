"""The git driver: every call zagi makes to git goes through here.

git stays the source of truth for history; zagi never reimplements its object format.
One module so every call gets the same treatment: `-C DIR` rather than a changed cwd,
no pager or prompts (an agent would hang on one), bounded time, and a failure that is
a GitError with git's own last line instead of a stack of stderr.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from zagi.core import proc
from zagi.core.errors import BadInput, GitError, ToolMissing

__all__ = ["GitError", "available", "clone", "commit_info", "file_at", "hooks_dir", "is_work_tree",
           "run", "staged_files", "tracked_files", "version"]

TIMEOUT = 120.0
CLONE_TIMEOUT = 3600.0
# Never wait for a password or open a pager: zagi is driven by scripts and agents.
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}


def available() -> bool:
    return proc.which("git") is not None


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].removeprefix("fatal: ").removeprefix("error: ") if lines else ""


def run(args: Sequence[str], repo: Path | None = None, *, timeout: float = TIMEOUT,
        check: bool = True) -> proc.Result:
    """`git [-C repo] ARGS`; with `check`, a non-zero exit is a GitError."""
    if not available():
        raise ToolMissing("git is not installed", hint="sudo apt-get install git")
    argv = ["git", *(["-C", str(repo)] if repo is not None else []), *args]
    res = proc.run(argv, env=_ENV, timeout=timeout)
    if check and not res.ok:
        raise GitError(f"git {args[0]} failed: {_last_line(res.stderr) or f'exit {res.returncode}'}",
                       details={"git_exit": res.returncode})
    return res


def version() -> str:
    return run(["--version"]).stdout.strip().removeprefix("git version ")


def clone(url: str, dest: Path, depth: int | None = None) -> None:
    if dest.exists() and any(dest.iterdir()):
        raise BadInput(f"{dest} exists and is not empty")
    args = ["clone", "--quiet", *(["--depth", str(depth)] if depth else []), "--", url, str(dest)]
    res = run(args, timeout=CLONE_TIMEOUT, check=False)
    if not res.ok:
        raise GitError(f"git clone failed: {_last_line(res.stderr)}")


def is_work_tree(repo: Path) -> bool:
    res = run(["rev-parse", "--is-inside-work-tree"], repo, check=False)
    return res.ok and res.stdout.strip() == "true"


def hooks_dir(repo: Path) -> Path:
    """Where git runs hooks for this work tree (right in worktrees and with core.hooksPath)."""
    if not is_work_tree(repo):
        raise BadInput(f"{repo} is not a git work tree")
    path = Path(run(["rev-parse", "--git-path", "hooks"], repo).stdout.strip())
    return path if path.is_absolute() else repo / path


def staged_files(repo: Path) -> list[str]:
    out = run(["diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z"], repo).stdout
    return [f for f in out.split("\0") if f]


def tracked_files(repo: Path) -> list[str]:
    return [f for f in run(["ls-files", "-z"], repo).stdout.split("\0") if f]


def file_at(repo: Path, spec: str) -> str:
    """`git show SPEC` (":path" = staged, "REV:path"), "" when it does not exist there."""
    res = run(["show", spec], repo, check=False)
    return res.stdout if res.ok else ""


def commit_info(repo: Path) -> tuple[str, str] | None:
    """(full commit, committer date ISO 8601) of HEAD, or None when there is no commit."""
    res = run(["log", "-1", "--format=%H %cI"], repo, check=False)
    if not res.ok or not res.stdout.strip():
        return None
    commit, _, date = res.stdout.strip().partition(" ")
    return commit, date


def branch(repo: Path) -> str | None:
    res = run(["rev-parse", "--abbrev-ref", "HEAD"], repo, check=False)
    name = res.stdout.strip()
    return name if res.ok and name and name != "HEAD" else None
