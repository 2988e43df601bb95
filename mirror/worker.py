"""One mirror job: a stranger's repository at one commit made runnable, its env published.

Steps, each timed: clone (shallow, one commit), detect (`zagi init`: reads files, never
runs the repository's code), lock, build (Nix, sandboxed as the user's Nix is), check
(each locked tool starts and prints its locked version: the env's binaries only, run in
an empty directory, with a time limit), publish (signed, to the mirror's cache), then
the index entry beside the cache:

    mirrors/<host>/<owner>/<repo>/<commit>.json   what the mirror knows of that commit
    mirrors/<host>/<owner>/<repo>/latest.json     the newest published one (compare-and-swap)

A `.zagi/` the repository already has is not used: the mirror infers its own (a
repository's own files are untrusted, and the untrusted-lock rules are not applied here
yet). Published entries make the job idempotent per (repository, commit).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zagi.cache.mirrors import entry_key, index_prefix
from zagi.core.errors import ZagiError
from zagi.storage import Storage, open_url

__all__ = ["CHECK_TIMEOUT", "process"]

CHECK_TIMEOUT = 20.0
# How each tool says its version, where `BIN --version` is not it.
_VERSION_ARGS: dict[str, list[str]] = {
    "go": ["go", "version"], "python": ["python3", "--version"], "java": ["java", "-version"],
    "rust": ["rustc", "--version"], "zig": ["zig", "version"], "dotnet": ["dotnet", "--version"],
    "erlang": ["erl", "-version"], "postgres": ["postgres", "--version"]}


def _timed(timings: dict[str, float], step: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    try:
        return fn()
    finally:
        timings[step] = round((time.perf_counter() - t0) * 1000, 1)


def _check_tools(root: Path) -> list[dict[str, Any]]:
    """Each locked tool, run from the env (not the repository) in an empty directory."""
    from zagi.core import proc
    from zagi.formats import lockfile

    lk = lockfile.read(root / ".zagi" / "env.lock")
    env_bin = root / ".zagi" / "env" / "bin"
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="zagi-mirror-check-") as empty:
        for name, pkg in sorted(lk.packages.items()):
            if pkg.kind != "tool":
                continue
            argv = list(_VERSION_ARGS.get(name, [name, "--version"]))
            exe = env_bin / argv[0]
            if not exe.exists():
                out.append({"tool": name, "version": pkg.version, "ok": False,
                            "output": f"{argv[0]} is not in the env"})
                continue
            try:
                res = proc.run([str(exe), *argv[1:]], cwd=Path(empty), timeout=CHECK_TIMEOUT,
                               env={"PATH": str(env_bin), "HOME": empty}, inherit_env=False)
                said = (res.stdout + res.stderr).strip().splitlines()[:1]
                ok = res.ok and bool(pkg.version) and str(pkg.version) in (said[0] if said else "")
                out.append({"tool": name, "version": pkg.version, "ok": ok,
                            "output": said[0][:200] if said else ""})
            except ZagiError as exc:
                out.append({"tool": name, "version": pkg.version, "ok": False,
                            "output": exc.message})
    return out


def _published(index: Storage, url: str, commit: str) -> dict[str, Any] | None:
    raw = index.get(entry_key(url, commit))
    if raw is None:
        return None
    data = json.loads(raw[: 16 << 20])
    return data if isinstance(data, dict) and data.get("status") == "published" else None


def _write_entry(index: Storage, url: str, entry: dict[str, Any]) -> None:
    data = json.dumps(entry, indent=2, sort_keys=True).encode() + b"\n"
    index.put(entry_key(url, entry["commit"]), data)
    if entry["status"] != "published":
        return
    latest = f"{index_prefix(url)}/latest.json"
    for _ in range(10):  # compare-and-swap: another worker may publish a commit meanwhile
        got = index.get_etag(latest)
        if got is None:
            if index.put_if_absent(latest, data):
                return
            continue
        if index.put_if_match(latest, data, got[1]):
            return


AUTHOR = "zagi mirror <mirror@zagi.invalid>"


def _offer(root: Path, url: str, commit: str, remote: str, findings: dict[str, Any],
           head_owner: str | None = None) -> dict[str, Any]:
    """The change, offered: a branch with the env files and a short README, pushed to the
    fork remote; the pull request's title and body (stored in the index entry), and with
    a GitHub token and the fork's owner (`head_owner`), the pull request opened."""
    from zagi.drivers import git

    tools = ", ".join(f"{n} {t.get('version') or ''}".strip()
                      for n, t in sorted(findings.get("tools", {}).items()))
    def cite(e: dict[str, Any]) -> str:
        where = f"{e.get('file')}:{e['line']}" if e.get("line") else str(e.get("file"))
        return f"{where} ({e.get('rule')})"

    why = "\n".join(f"- {n} {t.get('version') or ''}: "
                     + "; ".join(cite(e) for e in t.get("evidence", [])[:2])
                     for n, t in sorted(findings.get("tools", {}).items()))
    readme = (f"# Runnable with zagi\n\n```sh\nzagi clone {url}\n```\n\ngives the tools this "
              f"repository needs ({tools or 'none found'}), pinned in env.lock, from a binary "
              "cache: nothing to install by hand.\n")
    (root / ".zagi" / "README.md").write_text(readme)
    branch = f"zagi/env-{commit[:12]}"
    files = [f".zagi/{n}" for n in ("env.toml", "env.lock", "README.md", ".gitignore")
             if (root / ".zagi" / n).is_file()]
    git.commit_files(root, files, "Add a zagi environment (.zagi/env.toml, env.lock)", AUTHOR,
                     branch)
    git.push(root, remote, [f"HEAD:refs/heads/{branch}"])
    body = (f"I made your repo runnable: `zagi clone {url}` gets a ready environment "
            f"({tools or 'no tools found'}) from a binary cache.\n\nWhat was detected, and "
            f"why:\n{why or '- nothing'}\n\nNothing of the repository's code was run to "
            "find this: zagi reads files only.\n")
    pr: dict[str, Any] = {"remote": remote, "branch": branch,
                          "title": "Make this repository runnable with zagi", "body": body}
    from mirror import github

    host, owner, name = index_prefix(url).split("/")[1:4]
    api = github.api_for(host)
    if api is not None and github.token() is not None and head_owner:
        pr["opened"] = github.open_pull_request(api, owner, name, f"{head_owner}:{branch}",
                                                pr["title"], body)
    return pr


def process(url: str, rev: str | None, cache_url: str, key: str | None,
            extend: Callable[[], None] = lambda: None,
            pr_remote: str | None = None, pr_owner: str | None = None) -> dict[str, Any]:
    """Mirror one repository at one revision; the index entry (also written to the cache).
    With `pr_remote`, the change is also offered as a branch there (`pr` in the entry)."""
    from zagi.drivers import git, nix
    from zagi.project import Project

    index = open_url(cache_url)
    timings: dict[str, float] = {}
    entry: dict[str, Any] = {"url": url, "rev": rev, "commit": None, "status": "failed",
                             "timings": timings}
    work = Path(tempfile.mkdtemp(prefix="zagi-mirror-"))
    root = work / "repo"
    try:
        commit = _timed(timings, "clone", lambda: git.shallow_clone(url, root, rev))
        entry["commit"] = commit
        if (done := _published(index, url, commit)) is not None:
            return {**done, "skipped": True}
        extend()
        findings = _timed(timings, "detect", lambda: _detect(root))
        entry["findings"] = findings
        project = Project(root)
        _timed(timings, "lock", lambda: _lock(project))
        extend()
        from zagi.env import sync as realize

        res = _timed(timings, "build", lambda: realize.sync(project, nix.Options()))
        entry["env_id"], entry["built"] = res.env_id, len(res.built)
        checks = _timed(timings, "check", lambda: _check_tools(root))
        entry["tool_checks"] = checks
        if failed := [c["tool"] for c in checks if not c["ok"]]:
            raise ZagiError(f"tool check failed: {', '.join(failed)}")
        extend()
        from zagi.cache import writer

        _timed(timings, "publish", lambda: writer.publish(project, cache_url, key))
        entry["env_toml"] = (root / ".zagi" / "env.toml").read_text()
        entry["env_lock"] = (root / ".zagi" / "env.lock").read_text()
        entry["status"] = "published"
        if pr_remote:
            try:
                entry["pr"] = _timed(timings, "offer",
                                     lambda: _offer(root, url, commit, pr_remote, findings,
                                                    pr_owner))
            except ZagiError as exc:  # the env is published all the same; the offer failed
                entry["pr"] = {"remote": pr_remote, "error": exc.message}
    except ZagiError as exc:
        entry["error"] = exc.message + (f" ({exc.hint})" if exc.hint else "")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if entry["commit"] is not None:
        _write_entry(index, url, entry)
    return entry


def _detect(root: Path) -> dict[str, Any]:
    from zagi.project import init

    own = root / ".zagi"  # the repository's own: not trusted, and maybe a symlink out
    if own.is_symlink() or own.is_file():
        own.unlink()
    elif own.exists():
        shutil.rmtree(own)
    return init.to_json(init.run(root, force=True))


def _lock(project: Any) -> None:
    from zagi.drivers import nix
    from zagi.env import lock as locking

    locking.lock(project, None, nix.Options())
