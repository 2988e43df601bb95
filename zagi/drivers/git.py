"""The git driver: every call zagi makes to git goes through here.

git stays the source of truth for history; zagi never reimplements its object format.
One module so every call gets the same treatment: `-C DIR` rather than a changed cwd,
no pager or prompts (an agent would hang on one), bounded time, and a failure that is
a GitError with git's own last line instead of a stack of stderr.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zagi.core import proc
from zagi.core.errors import BadInput, GitError, ToolMissing

__all__ = [
    "MAX_BLOB",
    "Commit",
    "GitError",
    "available",
    "blobs",
    "branch",
    "checkout",
    "clone",
    "commit",
    "commit_files",
    "commit_info",
    "file_at",
    "has_object",
    "has_ref",
    "hooks_dir",
    "index_pack",
    "is_ancestor",
    "is_work_tree",
    "log",
    "notes_add",
    "notes_show",
    "pack_objects",
    "push",
    "remote_url",
    "resolve",
    "revert",
    "revert_continue",
    "run",
    "shallow_clone",
    "staged_files",
    "take_ours",
    "tracked_files",
    "unchanged_since_head",
    "version",
]

TIMEOUT = 120.0
CLONE_TIMEOUT = 3600.0
# Never wait for a password or open a pager: zagi is driven by scripts and agents.
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}


def _helper_path() -> dict[str, str]:
    """PATH with the directory of zagi's own git-remote-zagi first, so git finds the
    helper for zagi:: remotes even when zagi was run by its full path."""
    import os
    import sys

    for d in (Path(sys.argv[0]).resolve().parent, Path(sys.executable).parent):
        if (d / "git-remote-zagi").exists():
            return {"PATH": f"{d}{os.pathsep}{os.environ.get('PATH', '')}"}
    return {}


def available() -> bool:
    return proc.which("git") is not None


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].removeprefix("fatal: ").removeprefix("error: ") if lines else ""


def run(args: Sequence[str], repo: Path | None = None, *, timeout: float = TIMEOUT,
        check: bool = True, input_text: str | None = None) -> proc.Result:
    """`git [-C repo] ARGS`; with `check`, a non-zero exit is a GitError."""
    if not available():
        raise ToolMissing("git is not installed", hint="sudo apt-get install git")
    argv = ["git", *(["-C", str(repo)] if repo is not None else []), *args]
    env = {**_ENV, **_helper_path()} if args and args[0] in ("clone", "push", "fetch") else _ENV
    res = proc.run(argv, env=env, timeout=timeout, input_text=input_text)
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


def shallow_clone(url: str, dest: Path, rev: str | None, timeout: float = CLONE_TIMEOUT) -> str:
    """The one commit `rev` names (a branch, tag or full commit; None: the default
    branch) into an empty `dest`, history depth 1; its commit id. For the mirror, which
    reads strangers' repositories: no submodules, no hooks (a fresh clone has none), no
    checkout filters beyond git's own."""
    if rev is not None and rev.startswith("-"):
        raise BadInput(f"{rev!r}: expected a revision, not an option")
    dest.mkdir(parents=True, exist_ok=True)
    run(["init", "--quiet"], dest)
    res = run(["fetch", "--quiet", "--depth", "1", "--no-tags", "--", url, rev or "HEAD"], dest,
              timeout=timeout, check=False)
    if not res.ok:
        raise GitError(f"git fetch {url} {rev or 'HEAD'} failed: {_last_line(res.stderr)}")
    run(["checkout", "--quiet", "--detach", "FETCH_HEAD"], dest)
    return run(["rev-parse", "HEAD"], dest).stdout.strip()


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


# --- history --------------------------------------------------------------------------

MAX_BLOB = 64 << 20  # an env.lock in history bigger than this is not read (a hostile repo)
NOTES_REF = "refs/notes/zagi"


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    time: int  # author time, seconds since the epoch
    subject: str
    touched: frozenset[str] = field(default_factory=frozenset)  # files under DIR it changed


def log(repo: Path, rev_range: str | None, n: int, under: str) -> list[Commit]:
    """The last `n` commits of `rev_range` (default HEAD), each with the files under
    `under/` it changed against its first parent. One git process."""
    if rev_range is not None and rev_range.startswith("-"):
        raise BadInput(f"{rev_range!r}: expected a revision or range, not an option")
    fmt = "%x1e%H%x1f%P%x1f%an%x1f%at%x1f%s"
    args = ["log", f"-n{n}", f"--format={fmt}", "--name-only", f"--relative={under}/",
            "--diff-merges=first-parent", *([rev_range] if rev_range else []), "--"]
    res = run(args, repo, check=False)
    if not res.ok:
        if "does not have any commits" in res.stderr:
            return []
        raise GitError(f"git log failed: {_last_line(res.stderr)}")
    out = []
    for record in res.stdout.split("\x1e")[1:]:
        head, _, files = record.partition("\n")
        sha, parents, author, at, subject = (head.split("\x1f") + [""] * 5)[:5]
        out.append(Commit(sha, tuple(parents.split()), author, int(at or 0), subject,
                          frozenset(f for f in files.split("\n") if f.strip())))
    return out


def blobs(repo: Path, specs: list[str]) -> dict[str, bytes | None]:
    """`REV:path` -> its bytes (None: no such file there, or bigger than MAX_BLOB), read
    by two `git cat-file` processes however many there are."""
    if not specs:
        return {}
    if any("\n" in s for s in specs):
        raise BadInput("a revision spec may not contain a newline")
    sizes = run(["cat-file", "--batch-check=%(objectsize)"], repo,
                input_text="".join(f"{s}\n" for s in specs)).stdout.splitlines()
    wanted = [s for s, size in zip(specs, sizes, strict=True)
              if size.isdigit() and int(size) <= MAX_BLOB]
    out: dict[str, bytes | None] = dict.fromkeys(specs)
    if not wanted:
        return out
    raw = run(["cat-file", "--batch"], repo,
              input_text="".join(f"{s}\n" for s in wanted)).stdout.encode("utf-8",
                                                                       "surrogateescape")
    pos = 0
    try:
        for spec in wanted:
            end = raw.index(b"\n", pos)
            header = raw[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[-1] == b"missing":
                continue
            size = int(header[2])
            out[spec] = raw[pos:pos + size]
            pos += size + 1  # the content, then a newline
    except ValueError:
        raise GitError("git cat-file --batch answered in a form zagi does not read") from None
    return out


def resolve(repo: Path, rev: str) -> str | None:
    """The commit `rev` names, or None."""
    if rev.startswith("-"):
        raise BadInput(f"{rev!r}: expected a revision, not an option")
    res = run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], repo, check=False)
    return res.stdout.strip() or None


def checkout(repo: Path, target: str) -> None:
    """`git checkout TARGET` (a branch or a commit); git refuses to lose local changes."""
    if target.startswith("-"):
        raise BadInput(f"{target!r}: expected a branch or revision, not an option")
    run(["checkout", "--quiet", target, "--"], repo)


def revert(repo: Path, commit_rev: str) -> list[str]:
    """`git revert --no-edit COMMIT`: a new commit undoing it (its .zagi/ change included).
    [] when done; the conflicted paths when git stopped for them (the revert is then in
    progress: `revert_continue` or `git revert --abort`)."""
    if commit_rev.startswith("-"):
        raise BadInput(f"{commit_rev!r}: expected a commit, not an option")
    res = run(["revert", "--no-edit", commit_rev], repo, check=False)
    if res.ok:
        return []
    conflicted = run(["diff", "--name-only", "--diff-filter=U", "-z"], repo).stdout
    paths = [p for p in conflicted.split("\0") if p]
    if not paths:
        raise GitError(f"git revert failed: {_last_line(res.stderr)}")
    return paths


def take_ours(repo: Path, path: str) -> None:
    """Resolve a conflicted file as HEAD has it (the caller rewrites it next)."""
    run(["checkout", "--ours", "--", path], repo)


def revert_continue(repo: Path, paths: list[str]) -> None:
    run(["add", "--", *paths], repo)
    run(["-c", "core.editor=true", "revert", "--continue"], repo)


def commit(repo: Path, message: str, paths_all: bool) -> str:
    """`git commit [-a] -m MESSAGE`; the new commit."""
    run(["commit", "--quiet", *(["-a"] if paths_all else []), "-m", message], repo)
    return run(["rev-parse", "HEAD"], repo).stdout.strip()


def notes_add(repo: Path, commit_sha: str, text: str) -> None:
    """Attach `text` to the commit under zagi's own notes ref (replacing an earlier one)."""
    run(["notes", f"--ref={NOTES_REF}", "add", "-f", "-F", "-", commit_sha], repo,
        input_text=text)


def notes_show(repo: Path, shas: list[str]) -> dict[str, str]:
    """commit -> its zagi note, for those that have one (one process)."""
    if not shas:
        return {}
    res = run(["notes", f"--ref={NOTES_REF}", "list"], repo, check=False)
    notes = {}
    for line in res.stdout.splitlines():
        blob, _, target = line.partition(" ")
        if target in shas:
            notes[target] = blob
    texts = blobs(repo, list(notes.values()))
    return {c: (texts.get(b) or b"").decode(errors="replace") for c, b in notes.items()}


# --- packs (the bucket remote, zagi/server/) ----------------------------------------

def has_object(repo: Path, sha: str) -> bool:
    return run(["cat-file", "-e", sha], repo, check=False).ok


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """Whether `descendant` contains `ancestor` (a fast-forward from it); False when either
    is not in the repository."""
    return run(["merge-base", "--is-ancestor", ancestor, descendant], repo, check=False).ok


def pack_objects(repo: Path, include: list[str], exclude: list[str], base: Path) -> str | None:
    """Pack every object reachable from `include` and not from `exclude` into
    BASE-<sha>.pack/.idx; the pack's sha, or None when there is nothing to send."""
    revs = "".join(f"{s}\n" for s in include) + "".join(f"^{s}\n" for s in exclude)
    counted = run(["rev-list", "--objects", "--count", "--stdin"], repo, input_text=revs)
    if counted.stdout.strip() == "0":
        return None
    res = run(["pack-objects", "--revs", "--quiet", str(base)], repo, input_text=revs,
              timeout=CLONE_TIMEOUT)
    return res.stdout.strip()


def index_pack(repo: Path, pack: Path) -> str:
    """Check a downloaded pack (every object hashed: a bucket is not trusted to hold what
    it names) and write its .idx beside it; the pack's sha."""
    res = run(["index-pack", str(pack)], repo, timeout=CLONE_TIMEOUT)
    return res.stdout.strip().split()[-1]


def remote_url(repo: Path, remote: str) -> str | None:
    res = run(["remote", "get-url", remote], repo, check=False)
    return res.stdout.strip() if res.ok else None


def commit_files(repo: Path, paths: list[str], message: str, author: str, branch: str) -> str:
    """A new branch at HEAD with `paths` (force-added: they may be ignored) committed as
    `author` ("Name <email>"); the new commit."""
    if branch.startswith("-"):
        raise BadInput(f"{branch!r}: expected a branch name, not an option")
    name, _, email = author.partition(" <")
    run(["checkout", "--quiet", "-b", branch], repo)
    run(["add", "--force", "--", *paths], repo)
    run(["-c", f"user.name={name}", "-c", f"user.email={email.rstrip('>')}", "commit",
         "--quiet", "--no-verify", "-m", message], repo)
    return run(["rev-parse", "HEAD"], repo).stdout.strip()


def push(repo: Path, remote: str, refspecs: list[str]) -> str:
    """`git push REMOTE REFSPEC...`; git's report (stderr) is returned for the user."""
    res = run(["push", "--porcelain", remote, *refspecs], repo, timeout=CLONE_TIMEOUT,
              check=False)
    if not res.ok:
        rejected = [ln for ln in res.stdout.splitlines() if ln.startswith("!")]
        raise GitError(f"git push to {remote} failed: "
                       f"{(rejected[0] if rejected else _last_line(res.stderr))}",
                       hint="fetch and merge (or rebase) first, then zagi push again"
                       if any("fetch first" in r or "non-fast-forward" in r for r in rejected)
                       else None, details={"git_exit": res.returncode})
    return res.stdout


def has_ref(repo: Path, ref: str) -> bool:
    return run(["rev-parse", "--verify", "--quiet", ref], repo, check=False).ok


def unchanged_since_head(repo: Path, path: str) -> bool:
    """Whether PATH in the work tree is exactly as HEAD has it."""
    return run(["diff", "--quiet", "HEAD", "--", path], repo, check=False).ok


def init_bare(path: Path) -> None:
    run(["init", "-q", "--bare", str(path)])
