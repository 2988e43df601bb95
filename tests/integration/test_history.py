"""A change is source + env: log, diff, checkout, revert and undo carry the environment
(real git, real Nix with the stand-in set)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Ran, require
from tests.integration.conftest import tool_output

pytestmark = pytest.mark.integration

GIT_ID = {"GIT_AUTHOR_NAME": "matt", "GIT_AUTHOR_EMAIL": "m@example.org",
          "GIT_COMMITTER_NAME": "matt", "GIT_COMMITTER_EMAIL": "m@example.org"}


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """The real git CLI (`env`: what its hooks, and the zagi they run, see)."""
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env={**os.environ, **GIT_ID, **(env or {})}).stdout


@pytest.fixture
def repo(tmp_path: Path, z: Callable[..., Ran]) -> Path:
    """Five commits: code only; +node 20; +postgres 16 +uv; node 22 + system openssl;
    -uv + [env] APP_ENV."""
    require("git")
    r = tmp_path / "app"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    (r / "app.py").write_text("print('hi')\n")
    git(r, "add", "-A")
    git(r, "commit", "-qm", "first: code only")
    (r / ".nvmrc").write_text("20\n")
    z("init", cwd=r)
    z("lock", cwd=r)
    git(r, "add", "-A")
    git(r, "commit", "-qm", "add node")
    z("add", "--service", "postgres@16", cwd=r)
    z("add", "uv@0.4", cwd=r)
    git(r, "commit", "-qam", "add user model + postgres")
    z("add", "node@22", cwd=r)
    z("add", "--system", "openssl", cwd=r)
    git(r, "commit", "-qam", "node 22, openssl")
    z("remove", "uv", cwd=r)
    toml = (r / ".zagi" / "env.toml").read_text()
    assert "\n[env]\n" in toml  # init writes an empty [env] table
    (r / ".zagi" / "env.toml").write_text(toml.replace("\n[env]\n", '\n[env]\nAPP_ENV = "dev"\n'))
    z("lock", cwd=r)
    git(r, "commit", "-qam", "drop uv, APP_ENV")
    return r


def test_log_shows_each_commits_env_change(repo: Path, z: Callable[..., Ran]) -> None:
    data = z("log", "--json", cwd=repo).json()
    got = [(c["subject"], c["env"]) for c in data["commits"]]
    assert got == [
        ("drop uv, APP_ENV", ["-uv", "[env] +APP_ENV"]),
        ("node 22, openssl", ["node 20.12.2 -> 22.2.0", "system +openssl"]),
        ("add user model + postgres", ["+uv 0.4.18", "+postgres 16.2"]),
        ("add node", ["+node 20.12.2"]),
        ("first: code only", []),
    ]
    assert data["working"] is None
    z("add", "zig@0.15", cwd=repo)  # uncommitted: shown first, as @
    data = z("log", "--json", "-n", "2", cwd=repo).json()
    assert data["working"]["env"] == ["+zig 0.15.1"] and len(data["commits"]) == 2
    human = z("log", cwd=repo).out.splitlines()
    assert human[0] == "@  (working copy)  +zig 0.15.1"
    assert "   env: node 20.12.2 -> 22.2.0, system +openssl" in human


def test_diff_between_revisions_and_the_working_copy(repo: Path, z: Callable[..., Ran]) -> None:
    data = z("diff", "--json", "HEAD~3", "HEAD", cwd=repo).json()
    assert data["env"] == ["node 20.12.2 -> 22.2.0", "+postgres 16.2", "system +openssl",
                           "[env] +APP_ENV"]
    assert z("diff", "--json", cwd=repo).json()["changes"] == []
    z("remove", "postgres", cwd=repo)
    assert z("diff", "--json", cwd=repo).json()["env"] == ["-postgres"]
    bad = z("diff", "--json", "no-such-rev", cwd=repo, check=False)
    assert bad.code == 2 and "no-such-rev" in bad.json()["error"]


def test_checkout_back_and_forth_switches_the_env(repo: Path, z: Callable[..., Ran]) -> None:
    z("sync", cwd=repo)
    assert tool_output(repo, "node", "--version") == "v22.2.0"
    moved = z("checkout", "--json", "HEAD~3", cwd=repo).json()
    assert moved["env"][0] == "node 22.2.0 -> 20.12.2" and moved["error"] is None
    assert tool_output(repo, "node", "--version") == "v20.12.2"
    z("checkout", "main", cwd=repo)
    assert tool_output(repo, "node", "--version") == "v22.2.0"
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""  # lock untouched
    moved = z("checkout", "--json", "HEAD~4", cwd=repo, check=False)  # no env at all there
    assert moved.code == 0 and not (repo / ".zagi" / "env").exists()


def test_plain_git_checkout_carries_the_env_through_the_hooks(
        repo: Path, tmp_path: Path, z: Callable[..., Ran], zenv: dict[str, str]) -> None:
    hooks = Path(git(repo, "rev-parse", "--git-path", "hooks").strip())
    hooks = hooks if hooks.is_absolute() else repo / hooks
    hooks.mkdir(exist_ok=True)
    ran = tmp_path / "their-hook-ran"
    (hooks / "post-checkout").write_text(f"#!/bin/sh\necho theirs >> {ran}\n")
    (hooks / "post-checkout").chmod(0o755)
    z("hook", "git", "--install", cwd=repo)
    again = z("hook", "git", "--install", "--json", cwd=repo).json()
    assert again["written"] == []  # idempotent
    z("sync", cwd=repo)
    git(repo, "checkout", "-q", "HEAD~3", env=zenv)
    assert tool_output(repo, "node", "--version") == "v20.12.2"
    assert ran.read_text() == "theirs\n"  # chained, not lost
    git(repo, "checkout", "-q", "main", env=zenv)
    assert tool_output(repo, "node", "--version") == "v22.2.0"
    # a worktree has its own checkout; git's hooks path finds the same hooks
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "HEAD~3", env=zenv)
    z("sync", cwd=wt)
    git(wt, "checkout", "-q", "--detach", "main", env=zenv)
    assert tool_output(wt, "node", "--version") == "v22.2.0"


def test_revert_takes_the_env_change_back(repo: Path, z: Callable[..., Ran]) -> None:
    z("sync", cwd=repo)
    moved = z("revert", "--json", "HEAD", cwd=repo).json()  # "drop uv, APP_ENV"
    assert moved["env"] == ["+uv 0.4.18", "[env] -APP_ENV"]
    assert tool_output(repo, "uv", "--version") == "uv 0.4.18"
    assert git(repo, "log", "-1", "--format=%s").startswith('Revert "drop uv, APP_ENV"')


def test_revert_of_an_older_commit_relocks_instead_of_merging_the_lock(
        tmp_path: Path, z: Callable[..., Ran]) -> None:
    """A later commit changed env.lock too, so git cannot merge it; env.toml merges, and
    the lock is derived from it: zagi relocks and finishes the revert."""
    r = tmp_path / "r"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    (r / ".nvmrc").write_text("20\n")
    z("init", cwd=r)
    z("lock", cwd=r)
    git(r, "add", "-A")
    git(r, "commit", "-qm", "node 20")
    z("add", "node@22", cwd=r)
    git(r, "commit", "-qam", "node 22")
    toml = (r / ".zagi" / "env.toml").read_text()
    (r / ".zagi" / "env.toml").write_text(toml.replace("\n[env]\n", '\n[env]\nAPP_ENV = "dev"\n'))
    z("lock", cwd=r)
    git(r, "commit", "-qam", "APP_ENV")
    moved = z("revert", "--json", "HEAD~1", cwd=r).json()
    assert moved["env"] == ["node 22.2.0 -> 20.12.2"] and moved["error"] is None
    assert tool_output(r, "node", "--version") == "v20.12.2"
    assert git(r, "status", "--porcelain", "--untracked-files=no") == ""
    assert 'APP_ENV = "dev"' in (r / ".zagi" / "env.toml").read_text()


def test_undo_restores_files_and_env_and_undo_of_undo_redoes(
        repo: Path, z: Callable[..., Ran]) -> None:
    z("sync", cwd=repo)
    zdir = repo / ".zagi"
    before = {n: (zdir / n).read_bytes() for n in ("env.toml", "env.lock")}
    env_before = os.readlink(zdir / "env")
    z("add", "zig@0.15", cwd=repo)
    z("sync", cwd=repo)
    after = {n: (zdir / n).read_bytes() for n in ("env.toml", "env.lock")}
    assert (zdir / "env" / "bin" / "zig").exists()
    z("undo", cwd=repo)
    assert {n: (zdir / n).read_bytes() for n in before} == before  # byte-identical
    assert os.readlink(zdir / "env") == env_before
    z("undo", cwd=repo)  # undo the undo
    assert {n: (zdir / n).read_bytes() for n in after} == after
    assert (zdir / "env" / "bin" / "zig").exists()
    ops = z("op", "log", "--json", cwd=repo).json()["operations"]
    assert [o["argv"][0] for o in ops[:4]] == ["undo", "undo", "sync", "add"]
    # op restore: the state right after an operation
    add_op = next(o for o in ops if o["argv"][:2] == ["add", "zig@0.15"])
    z("undo", cwd=repo)
    z("op", "restore", add_op["id"], cwd=repo)
    assert {n: (zdir / n).read_bytes() for n in after} == after


def test_a_failed_command_records_no_operation(repo: Path, z: Callable[..., Ran]) -> None:
    count = len(z("op", "log", "--json", cwd=repo).json()["operations"])
    failed = z("add", "node@99", cwd=repo, check=False)
    assert failed.code == 2
    assert len(z("op", "log", "--json", cwd=repo).json()["operations"]) == count


def test_commit_records_provenance_in_a_note_that_log_shows(
        repo: Path, z: Callable[..., Ran], zenv: dict[str, str]) -> None:
    from tests.conftest import run_zagi

    z("add", "zig@0.15", cwd=repo)
    ran = run_zagi("commit", "-a", "-m", "add zig", "--prompt", "please add zig",
                   "--model", "model-x", "--tests", "zig version", "--json", cwd=repo,
                   env={**zenv, "CLAUDECODE": "1", **GIT_ID}, timeout=300)
    assert ran.code == 0, ran.err
    note = ran.json()["note"]
    assert note["agent"] == "claude-code" and note["model"] == "model-x"
    assert note["prompt"] == "please add zig"
    assert note["tests"]["command"] == "zig version" and note["tests"]["exit_code"] == 0
    assert len(note["env_id"]) == 32
    stored = git(repo, "notes", "--ref=refs/notes/zagi", "show", "HEAD")
    assert '"model": "model-x"' in stored
    top = z("log", "--json", "-n", "1", cwd=repo).json()["commits"][0]
    assert top["subject"] == "add zig" and top["env"] == ["+zig 0.15.1"]
    assert top["note"]["agent"] == "claude-code"
    assert "by claude-code, model model-x, tests `zig version` exit 0" in z("log", cwd=repo).out
    failing = run_zagi("commit", "--allow-empty", "-m", "x", cwd=repo, env=zenv)
    assert failing.code == 2  # not a zagi option: usage error, nothing committed


def test_sync_no_build_never_builds_and_says_what_would(repo: Path, z: Callable[..., Ran]) -> None:
    """What the git hooks run: a lock that needs Nix to move is named, exit 1, nothing built."""
    z("sync", cwd=repo)
    before = os.readlink(repo / ".zagi" / "env")
    z("add", "--no-lock", "zig@0.15", cwd=repo)  # env.toml ahead of its lock
    ran = z("sync", "--no-build", "--json", cwd=repo, check=False)
    assert ran.code == 1 and ran.json()["kind"] == "NeedsBuild"
    assert os.readlink(repo / ".zagi" / "env") == before
    assert z("sync", "--no-build", "--json", "--frozen", cwd=repo, check=False).code == 1
