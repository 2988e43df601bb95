"""zagi as an unprivileged user of a real, sandboxed nix-daemon, on stores that start
empty, with a signed upstream cache standing in for cache.nixos.org (machine.py).

Every "fetched, not built" below is Nix's own record (`nix path-info --json`): a path
built on the machine is `ultimate` and unsigned; a fetched one carries its cache's
signature.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.machine import Machine, Upstream, _system_python

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENV_TOML = '[tools]\nnode = "20"\nuv = "0.4"\n[system]\npackages = ["openssl"]\n'


def _project(m: Machine, root: Path) -> Path:
    """A git repository the test user owns, asking for two tools and a library."""
    repo = m.mkdir(root)
    m.run("git", "init", "-q", str(repo))
    m.mkdir(repo / ".zagi")
    (repo / ".zagi" / "env.toml").write_text(ENV_TOML)
    return repo


def _closure(repo: Path) -> tuple[str, list[str]]:
    lock = json.loads((repo / ".zagi" / "env.lock").read_text())
    entry = next(iter(lock["systems"].values()))
    return entry["out"], [p["path"] for p in entry["closure"]]


def _signed_by(info: dict[str, Any], key_name: str) -> bool:
    return any(s.startswith(key_name + ":") for s in info.get("signatures", []))


def test_lock_fetches_what_the_users_cache_has_and_builds_only_the_env(
        machines: Any, upstream: Upstream) -> None:
    a: Machine = machines("a")
    repo = a.mkdir(a.dir / "repo")  # a repository that never heard of zagi
    a.run("git", "init", "-q", str(repo))
    a.run("sh", "-c", "echo 20 > .nvmrc", cwd=repo)
    a.zagi("init", cwd=repo)
    assert 'node = "20"' in (repo / ".zagi" / "env.toml").read_text()
    a.zagi("lock", cwd=repo)
    out, closure = _closure(repo)
    info = a.path_info(closure)
    assert info[out].get("ultimate") is True  # the env itself is new: built here, sandboxed
    # The evaluation itself adds the stand-in's bootstrap binary as a source (as nixpkgs'
    # own source files are added); every built package came from the upstream cache.
    others = [p for p in closure if p != out and not p.endswith("-bootstrap-busybox")]
    assert others and all(_signed_by(info[p], "upstream-1") and not info[p].get("ultimate")
                          for p in others), info
    assert a.zagi("sync", "--json", cwd=repo).json()["built"] == []


def test_clone_uses_a_team_cache_once_the_daemon_trusts_its_key(
        machines: Any, upstream: Upstream) -> None:
    a: Machine = machines("a")
    repo = _project(a, a.dir / "repo")
    a.zagi("lock", cwd=repo)
    pub = a.zagi("keys", "generate", "team-1").out.strip()
    cache = a.mkdir(a.dir / "team-cache")
    published = a.zagi("publish", "--json", "--to", f"file://{cache}", cwd=repo).json()
    (repo / ".zagi" / "config.toml").write_text(f'[cache]\nurls = ["file://{cache}"]\n')
    a.run("git", "add", "-A", cwd=repo)
    a.run("git", "commit", "-qm", "env", cwd=repo)
    out, closure = _closure(repo)
    # what the upstream cache already has is not uploaded again (as cachix skips it)
    assert published["uploaded"] == [out]
    assert sorted(published["upstream"]) == sorted(p for p in closure if p != out)

    # b: a user the daemon does not trust, whose daemon does not trust the team key. zagi
    # says so before building, names the nix.conf line, and Nix fetches what upstream has.
    b: Machine = machines("b")
    dest = b.mkdir(b.dir / "work")
    ran = b.zagi("clone", "--json", "--trust", pub, str(repo), str(dest / "repo"), cwd=dest)
    data = ran.json()
    notes = " ".join(data["notes"])
    assert "does not trust that key" in notes and f"extra-trusted-public-keys = {pub}" in notes
    assert data["source"] is None
    assert [Path(p).name.split("-", 1)[1] for p in data["built"]] == ["zagi-env.drv"]
    assert data["out"] == out
    got = b.path_info(closure)
    assert all(_signed_by(got[p], "upstream-1") for p in closure
               if p != out and not p.endswith("-bootstrap-busybox"))

    # c: root trusts the key (`zagi cache trust`, then the daemon restart it asks for);
    # the clone is then a download: the env from the team cache, signed by its key, the
    # rest from upstream; nothing built, nothing even evaluated (no .drv in the store).
    c: Machine = machines("c")
    said = c.zagi("cache", "trust", f"file://{cache}", pub, root=True)
    assert "restart" in said.out
    again = c.zagi("cache", "trust", f"file://{cache}", pub, root=True)
    assert "already" in again.out
    assert c.conf.read_text().count(pub) == 1
    c.restart_daemon()
    dest = c.mkdir(c.dir / "work")
    data = c.zagi("clone", "--json", "--trust", pub, str(repo), str(dest / "repo"),
                  cwd=dest).json()
    assert data["built"] == [] and data["source"] == f"file://{cache}", data["notes"]
    assert sorted(data["fetched"]) == sorted(closure)
    got = c.path_info(closure)
    assert _signed_by(got[out], "team-1")
    assert all(_signed_by(got[p], "upstream-1") for p in closure if p != out)
    assert not any(got[p].get("ultimate") for p in closure)
    assert c.store_has("*.drv") == []
    ran = c.run(str(dest / "repo" / ".zagi" / "env" / "bin" / "node"), "--version")
    assert ran.out.strip() == "v20.12.2"


def test_not_root_cache_trust_prints_the_lines(machines: Any) -> None:
    m: Machine = machines("m")
    ran = m.zagi("cache", "trust", "https://cache.example.org", "example-1:"
                 "6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=", "--json")
    data = ran.json()
    assert data["written"] is False
    assert "extra-trusted-public-keys = example-1:" in "\n".join(data["lines"])
    assert "example-1" not in m.conf.read_text()


def test_doctor_reports_daemon_trust_and_keys(machines: Any, upstream: Upstream) -> None:
    m: Machine = machines("m")
    m.zagi("keys", "generate", "mine-1")
    checks = {c["name"]: c for c in m.zagi("doctor", "--json").json()["checks"]}
    assert "daemon" in checks["nix store"]["detail"]
    assert "/nix/var/nix/daemon-socket/socket" in checks["nix store"]["detail"]
    assert checks["nix trust"]["status"] == "info" and "not trusted" in checks["nix trust"]["detail"]
    assert upstream.url in checks["nix substituters"]["detail"]
    key = checks["cache key mine-1"]
    assert key["status"] == "warn" and "zagi cache trust" in (key["fix"] or "")
    as_root = {c["name"]: c for c in m.zagi("doctor", "--json", root=True).json()["checks"]}
    assert as_root["nix trust"]["detail"].startswith("trusted")


def test_a_lock_for_another_platform_is_read_from_the_caches_not_built(
        machines: Any, upstream: Upstream) -> None:
    """`zagi lock --system` pins another platform from the narinfos of the caches Nix
    uses; adding it changes no env id; a sync there uses the lock as it is."""
    from tests.integration.machine import OTHER_SYSTEM
    from zagi.core.layout import env_id_of

    a: Machine = machines("a")
    repo = _project(a, a.dir / "repo")
    a.zagi("lock", cwd=repo)
    here = next(iter(json.loads((repo / ".zagi" / "env.lock").read_text())["systems"]))
    before = (repo / ".zagi" / "env.lock").read_bytes()
    a.zagi("lock", "--system", OTHER_SYSTEM, cwd=repo)
    after = (repo / ".zagi" / "env.lock").read_bytes()
    assert env_id_of(after, here) == env_id_of(before, here)  # adding a platform moves no id
    other = json.loads(after)["systems"][OTHER_SYSTEM]
    assert other["partial"] is True
    paths = [p["path"] for p in other["closure"]]
    assert other["out"] not in paths and len(paths) >= 4
    # read from narinfos, never fetched (the bootstrap binary is a source, the same path
    # on every system, added to the store by evaluating)
    present = a.run("sh", "-c", 'for p in "$@"; do [ -e "$p" ] && echo "$p"; done; true', "-",
                    *paths).out.split()
    assert all(p.endswith("-bootstrap-busybox") for p in present), present

    # b is that platform (its nix.conf says so): sync --frozen uses the lock as committed,
    # fetches the packages from upstream, builds only the env, and rewrites nothing.
    b: Machine = machines("b", nix_conf=f"system = {OTHER_SYSTEM}\n")
    work = b.mkdir(b.dir / "repo")
    b.run("cp", "-r", f"{repo}/.zagi", f"{work}/")
    b.run("rm", "-f", f"{work}/.zagi/env", f"{work}/.zagi/.synced")
    data = b.zagi("sync", "--frozen", "--json", cwd=work).json()
    assert data["out"] == other["out"]
    assert (work / ".zagi" / "env.lock").read_bytes() == after
    got = b.path_info(paths)
    assert all(_signed_by(got[p], "upstream-1") for p in paths
               if not p.endswith("-bootstrap-busybox"))
    assert b.run(str(work / ".zagi" / "env" / "bin" / "node"), "--version").out.strip() == \
        "v20.12.2"

    # ...and what b built there, published, is a download for the next machine of that
    # platform: the env output has no hash in the lock, so its narinfo must be signed
    # by a trusted key and stay inside the locked closure.
    pub = b.zagi("keys", "generate", "i686-team-1").out.strip()
    cache = b.mkdir(b.dir / "cache")
    b.zagi("publish", "--to", f"file://{cache}", cwd=work)
    c: Machine = machines("c", nix_conf=f"system = {OTHER_SYSTEM}\n"
                                        f"extra-trusted-public-keys = {pub}\n")
    there = c.mkdir(c.dir / "repo")
    c.run("cp", "-r", f"{repo}/.zagi", f"{there}/")
    c.run("rm", "-f", f"{there}/.zagi/env", f"{there}/.zagi/.synced")
    data = c.zagi("sync", "--frozen", "--json", "--cache", f"file://{cache}", "--trust", pub,
                  cwd=there).json()
    assert data["built"] == [] and data["source"] == f"file://{cache}", data["notes"]
    assert other["out"] in data["fetched"]
    assert (there / ".zagi" / "env.lock").read_bytes() == after


def test_a_users_nixpkgs_overlay_does_not_change_the_env(machines: Any) -> None:
    """As an untrusted daemon user (evaluation runs in the user's own process, with their
    HOME): an overlay in ~/.config/nixpkgs that replaces node changes nothing."""
    plain: Machine = machines("plain")
    repo = _project(plain, plain.dir / "repo")
    plain.zagi("lock", cwd=repo)
    out, _ = _closure(repo)

    odd: Machine = machines("odd")
    cfg = odd.mkdir(odd.home / ".config" / "nixpkgs")
    odd.mkdir(odd.home / ".config")
    (cfg / "overlays.nix").write_text("[ (final: prev: { nodejs_20 = prev.uv; }) ]\n")
    (cfg / "config.nix").write_text("{ allowUnfree = true; }\n")
    mine = _project(odd, odd.dir / "repo")
    odd.zagi("lock", cwd=mine)
    assert _closure(mine)[0] == out
    odd.zagi("sync", cwd=mine)
    ran = odd.run(str(mine / ".zagi" / "env" / "bin" / "node"), "--version")
    assert ran.out.strip() == "v20.12.2"


def _path_catalog(m: Machine, where: Path, source: Path) -> Path:
    """A catalog like the shipped one (every entry with its store paths: `source`, the
    session's stand-in catalog with paths), its package sets out of reach (a directory
    that does not exist), so any evaluation, hashing or download of a package set fails
    the test instead of going unnoticed."""
    made = m.mkdir(where)
    doc = json.loads((source / "catalog.json").read_text())
    for r in doc["revisions"]:
        r["path"] = f"/nonexistent/{r['id']}"
    (made / "catalog.json").write_text(json.dumps(doc))
    (made / "catalog.json").chmod(0o644)
    return made


def test_a_lock_by_store_path_downloads_no_package_set_and_builds_nothing(
        machines: Any, upstream: Upstream, standin_with_paths: Path) -> None:
    """issue 13: node 20 + python 3.12 + postgres 16 whose paths the catalog records,
    against the caches the user has: no package set is read, nothing but the env's own
    composition (Nix's builtin buildenv) is built, and a second machine syncing the lock
    does the same."""
    a: Machine = machines("a")
    b: Machine = machines("b")
    cat = _path_catalog(a, a.dir / "catalog", standin_with_paths)
    repo = a.mkdir(a.dir / "repo")
    a.run("git", "init", "-q", str(repo))
    a.mkdir(repo / ".zagi")
    (repo / ".zagi" / "env.toml").write_text(
        '[tools]\nnode = "20"\npython = "3.12"\n[services]\npostgres = "16"\n')
    zagi = ["env", f"ZAGI_NIXPKGS={cat}", _system_python(), "-m", "zagi"]
    a.run(*zagi, "lock", cwd=repo)
    lock = json.loads((repo / ".zagi" / "env.lock").read_text())
    assert all("sha256" not in src for src in lock["nixpkgs"].values())  # never hashed
    entry = next(iter(lock["systems"].values()))
    assert sorted(entry["packages"]) == ["node", "postgres", "python"]
    out, closure = _closure(repo)
    info = a.path_info(closure)
    built_here = sorted(p for p in closure if info[p].get("ultimate"))
    assert built_here == [out]  # the composed env; every package came signed from upstream
    assert all(_signed_by(info[p], "upstream-1") for p in closure if p != out)
    synced = a.run(*zagi, "sync", "--json", cwd=repo)
    assert json.loads(synced.out)["built"] == []
    assert a.run(".zagi/env/bin/python3", "--version", cwd=repo).out.strip() == "Python 3.12.4"
    # the next machine: the lock alone, its store empty
    cat_b = _path_catalog(b, b.dir / "catalog", standin_with_paths)
    repo_b = b.mkdir(b.dir / "repo")
    b.run("git", "init", "-q", str(repo_b))
    b.mkdir(repo_b / ".zagi")
    for name in ("env.toml", "env.lock"):
        (repo_b / ".zagi" / name).write_text((repo / ".zagi" / name).read_text())
    data = json.loads(b.run("env", f"ZAGI_NIXPKGS={cat_b}", _system_python(), "-m", "zagi",
                            "sync", "--json", cwd=repo_b).out)
    assert [Path(p).name.split("-", 1)[1] for p in data["built"]] == ["zagi-env.drv"], data
    assert b.run(".zagi/env/bin/node", "--version", cwd=repo_b).out.strip() == "v20.12.2"
    assert b.run(".zagi/env/bin/postgres", "--version", cwd=repo_b).out.strip() == \
        "postgres (PostgreSQL) 16.2"
