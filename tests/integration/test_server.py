"""The bucket as a git server: the real git CLI through git-remote-zagi, against moto's S3
server over HTTP (and a directory, the embedded default); plain git over dumb HTTP."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from tests.integration.conftest import S3_ENV, new_bucket

pytestmark = pytest.mark.integration
BIN = str(Path(sys.executable).parent)
GIT_ID = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
          "GIT_COMMITTER_EMAIL": "t@t"}


def env() -> dict[str, str]:
    return {**os.environ, **S3_ENV, **GIT_ID, "PATH": f"{BIN}:{os.environ['PATH']}",
            "GIT_TERMINAL_PROMPT": "0"}


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cp = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                        env=env(), timeout=120)
    if check:
        assert cp.returncode == 0, f"git {' '.join(args)}: {cp.stderr}"
    return cp


def commit(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-qm", f"{name}: {text[:20]}")
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def new_repo(path: Path) -> Path:
    require("git")
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    return path


def s3_url(endpoint: str, bucket: str, name: str = "app") -> str:
    return f"zagi::s3://{bucket}/team/{name}?endpoint={endpoint}&region=us-east-1"


def state(store: Path) -> dict[str, Any]:
    """The bucket repository's zagi-state.json (docs/server.md), as JSON."""
    doc: dict[str, Any] = json.loads((store / "app.git" / "zagi-state.json").read_text())
    return doc


def test_push_clone_and_fetch_through_a_directory(tmp_path: Path) -> None:
    src = new_repo(tmp_path / "src")
    first = commit(src, "a.txt", "one\n")
    url = f"zagi::file://{tmp_path}/bucket/app"
    git(src, "push", "-q", url, "main")
    git(tmp_path, "clone", "-q", url, "clone")
    assert git(tmp_path / "clone", "rev-parse", "HEAD").stdout.strip() == first
    second = commit(src, "b.txt", "two\n")
    git(src, "push", "-q", url, "main")
    git(tmp_path / "clone", "pull", "-q")
    assert git(tmp_path / "clone", "rev-parse", "HEAD").stdout.strip() == second
    assert git(tmp_path / "clone", "fsck").returncode == 0
    # The incremental push uploaded one pack of exactly the new objects: a commit, its
    # tree and the new blob.
    packs = state(tmp_path / "bucket")["packs"]
    assert isinstance(packs, dict) and len(packs) == 2
    newest = max(packs, key=lambda n: packs[n]["created"])
    idx = tmp_path / "bucket" / "app.git" / "objects" / "pack" / f"{newest}.idx"
    shown = subprocess.run(["git", "show-index"], stdin=idx.open("rb"), capture_output=True,
                           text=True, check=True).stdout
    assert len(shown.splitlines()) == 3


def test_push_fetch_clone_through_s3_and_plain_git_over_http(s3_server: str,
                                                            tmp_path: Path) -> None:
    import boto3

    bucket = new_bucket(s3_server)
    url = s3_url(s3_server, bucket)
    src = new_repo(tmp_path / "src")
    for i in range(3):
        commit(src, f"f{i}.txt", f"{i}\n")
    git(src, "tag", "v1")
    git(src, "push", "-q", url, "main", "v1")
    git(tmp_path, "clone", "-q", url, "clone")
    clone = tmp_path / "clone"
    assert git(clone, "log", "--format=%s").stdout.count("\n") == 3
    assert git(clone, "tag").stdout.strip() == "v1"
    tip = commit(src, "f3.txt", "3\n")
    git(src, "push", "-q", url, "main")
    git(clone, "fetch", "-q")
    assert git(clone, "rev-parse", "origin/main").stdout.strip() == tip

    # A public-read bucket: stock git, no helper and no credentials, over dumb HTTP.
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test").put_bucket_policy(
        Bucket=bucket, Policy=json.dumps(policy))
    plain_env = {k: v for k, v in env().items() if not k.startswith("AWS_")}
    cp = subprocess.run(["git", "clone", "-q", f"{s3_server}/{bucket}/team/app.git",
                         str(tmp_path / "plain")], env=plain_env, capture_output=True, text=True,
                        timeout=120)
    assert cp.returncode == 0, cp.stderr
    assert git(tmp_path / "plain", "rev-parse", "HEAD").stdout.strip() == tip
    assert git(tmp_path / "plain", "fsck").returncode == 0
    # ...and through the helper with no credentials at all: anonymous reads.
    cp = subprocess.run(["git", "clone", "-q", url, str(tmp_path / "anon")], env={
        **plain_env, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"},
        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr
    assert git(tmp_path / "anon", "rev-parse", "HEAD").stdout.strip() == tip


def test_two_pushers_racing_on_a_branch_exactly_one_wins(s3_server: str, tmp_path: Path) -> None:
    bucket = new_bucket(s3_server)
    url = s3_url(s3_server, bucket)
    seed = new_repo(tmp_path / "seed")
    commit(seed, "base.txt", "base\n")
    git(seed, "push", "-q", url, "main")
    pushers = []
    for who in ("a", "b"):
        git(tmp_path, "clone", "-q", url, who)
        pushers.append(tmp_path / who)
    for rnd in range(20):
        for p in pushers:
            git(p, "fetch", "-q")
            git(p, "reset", "-q", "--hard", "origin/main")
            commit(p, f"{p.name}.txt", f"round {rnd}\n")
        racing = [subprocess.Popen(["git", "-C", str(p), "push", "origin", "main"], env=env(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for p in pushers]
        outs = [r.communicate(timeout=120) for r in racing]
        codes = [r.returncode for r in racing]
        assert sorted(codes) == [0, 1], (rnd, outs)
        loser = outs[codes.index(1)][1]
        assert "fetch first" in loser or "non-fast-forward" in loser or "rejected" in loser, loser
    git(tmp_path, "clone", "-q", url, "fresh")
    fresh = tmp_path / "fresh"
    assert git(fresh, "fsck", "--full").returncode == 0
    assert int(git(fresh, "rev-list", "--count", "HEAD").stdout) == 21  # base + one a round


def test_kill_9_during_a_push_never_leaves_a_ref_to_a_missing_object(s3_server: str,
                                                                     tmp_path: Path) -> None:
    bucket = new_bucket(s3_server)
    url = s3_url(s3_server, bucket)
    src = new_repo(tmp_path / "src")
    commit(src, "base.txt", "base\n")
    git(src, "push", "-q", url, "main")
    rng = random.Random(17)
    killed = 0
    for trial in range(20):
        commit(src, f"t{trial}.bin", os.urandom(200_000).hex())  # a pack worth uploading
        push = subprocess.Popen(["git", "-C", str(src), "push", "-q", "-f", url, "main"],
                                env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(rng.uniform(0.0, 0.6))
        if push.poll() is None:
            os.killpg(push.pid, signal.SIGKILL)  # git and the helper it runs
            killed += 1
        push.wait()
        # Whatever the bucket's refs say now, a fresh clone has every object they name.
        dest = tmp_path / f"check{trial}"
        git(tmp_path, "clone", "-q", url, str(dest))
        assert git(dest, "fsck", "--full").returncode == 0
    assert killed >= 5  # the trials did interrupt pushes (not all finished first)


def test_zagi_push_then_zagi_clone_s3_gets_source_and_env_from_one_url(
        s3_server: str, tmp_path: Path) -> None:
    from tests.integration.conftest import drop_roots
    from tests.integration.test_cache import Machine

    bucket = new_bucket(s3_server)
    repo_url = f"s3://{bucket}/team/app?endpoint={s3_server}&region=us-east-1"
    a = Machine(tmp_path / "machine-a")
    try:
        _push_then_clone(a, s3_server, bucket, repo_url, tmp_path)
    finally:  # roots left behind would keep these paths alive for every later test
        drop_roots(a.home)
        drop_roots(tmp_path / "machine-b")


def _push_then_clone(a: Any, s3_server: str, bucket: str, repo_url: str, tmp_path: Path) -> None:
    from tests.integration.conftest import drop_roots
    from tests.integration.test_cache import CANDIDATES, Machine, _delete_closure, _why_alive

    pub = a.z("keys", "generate", "team-1", cwd=tmp_path).stdout.strip()
    why = ""
    for n, spec in enumerate(CANDIDATES):
        repo = new_repo(tmp_path / f"repo{n}")
        (repo / ".zagi").mkdir()
        (repo / ".zagi" / "env.toml").write_text(spec)
        a.z("sync", cwd=repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "env")
        git(repo, "remote", "add", "origin", f"zagi::{repo_url}".replace("/app?", f"/app{n}?"))
        pushed = json.loads(a.z("push", "--json", "origin", "main", cwd=repo).stdout)
        assert pushed["env_id"] and pushed["cache"].startswith(f"s3://{bucket}/team?")
        lock = json.loads((repo / ".zagi" / "env.lock").read_text())
        entry = next(iter(lock["systems"].values()))
        drop_roots(a.home)
        closure = [p["path"] for p in entry["closure"]]
        if _delete_closure(closure, entry["out"]):
            break
        why = _why_alive(closure)
    else:
        pytest.fail(f"every candidate env is kept alive on this machine; e.g. {why}")
    b = Machine(tmp_path / "machine-b")  # a fresh ZAGI_HOME that trusts the team's key
    b.trust(pub)
    url = repo_url.replace("/app?", f"/app{n}?")
    said = b.z("clone", url, str(tmp_path / "clone"), cwd=tmp_path)
    assert "Cloning... done" in said.stdout and "Resolving env... cached (" in said.stdout, said
    assert git(tmp_path / "clone", "log", "--format=%s").stdout.strip() == "env"
    assert (tmp_path / "clone" / ".zagi" / "env").readlink() == Path(str(entry["out"]))
    drop_roots(b.home)
    # A public bucket: `zagi clone https://...` (here http) is stock git for the source and
    # the cache beside the repository for the env, from the one URL.
    import boto3

    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test").put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            # Nix asks with HEAD first; AWS lets s3:GetObject answer it, moto wants
            # s3:HeadObject as well.
            "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:HeadObject"],
            "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    assert _delete_closure(closure, entry["out"])  # so the env must come from the cache
    c = Machine(tmp_path / "machine-c")
    c.trust(pub)
    try:
        ran = c.z("clone", "--json", f"{s3_server}/{bucket}/team/app{n}.git",
                  str(tmp_path / "public"), cwd=tmp_path)
        assert json.loads(ran.stdout)["source"] == f"{s3_server}/{bucket}/team", ran.stdout
    finally:
        drop_roots(c.home)


def test_gc_repacks_into_one_while_readers_clone(tmp_path: Path) -> None:
    import threading

    store = tmp_path / "bucket"
    url = f"zagi::file://{store}/app"
    src = new_repo(tmp_path / "src")
    for i in range(6):  # six pushes, six packs
        commit(src, f"f{i}.txt", f"{i}\n")
        git(src, "push", "-q", url, "main")
    assert len(state(store)["packs"]) == 6
    failures: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            cp = git(tmp_path, "clone", "-q", url, f"reader{n}", check=False)
            if cp.returncode != 0:
                failures.append(cp.stderr)
    t = threading.Thread(target=reader)
    t.start()
    try:
        ran = subprocess.run([f"{BIN}/zagi", "server", "gc", "--json", url.removeprefix("zagi::")],
                             capture_output=True, text=True, env=env(), timeout=120)
        time.sleep(0.5)
    finally:
        stop.set()
        t.join()
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["packs_before"] == 6 and out["packs_after"] == 1 and len(out["retired"]) == 6
    assert not failures, failures[0]
    # Retired packs stay for the grace period (a reader may hold the old list)...
    packdir = store / "app.git" / "objects" / "pack"
    assert len(list(packdir.glob("*.pack"))) == 7
    # ...and go once it has passed; the repository is whole with its one pack.
    again = subprocess.run([f"{BIN}/zagi", "server", "gc", "--grace", "0s", "--json",
                            url.removeprefix("zagi::")], capture_output=True, text=True,
                           env=env(), timeout=120)
    assert len(json.loads(again.stdout)["deleted"]) == 6
    assert len(list(packdir.glob("*.pack"))) == 1
    git(tmp_path, "clone", "-q", url, "after")
    assert git(tmp_path / "after", "fsck", "--full").returncode == 0
    assert int(git(tmp_path / "after", "rev-list", "--count", "HEAD").stdout) == 6
    # A push after gc adds a pack beside the repacked one, as any push does.
    commit(src, "g.txt", "g\n")
    git(src, "push", "-q", url, "main")
    assert len(state(store)["packs"]) == 2


def test_a_bucket_is_not_trusted_to_hold_what_it_names(tmp_path: Path) -> None:
    store = tmp_path / "bucket"
    url = f"zagi::file://{store}/app"
    src = new_repo(tmp_path / "src")
    commit(src, "a.txt", "a\n")
    git(src, "push", "-q", url, "main")
    commit(src, "b.txt", "b\n")
    git(src, "push", "-q", url, "main")
    packs = sorted((store / "app.git" / "objects" / "pack").glob("*.pack"))
    # Swap one pack's bytes for the other's: each is a valid pack, under the wrong name.
    a, b = packs[0].read_bytes(), packs[1].read_bytes()
    packs[0].write_bytes(b)
    packs[1].write_bytes(a)
    cp = git(tmp_path, "clone", "-q", url, "clone", check=False)
    assert cp.returncode != 0 and "is not the pack it names" in cp.stderr
    (store / "app.git" / "zagi-state.json").write_text('{"format": 1, "refs": [1]}')
    cp = git(tmp_path, "clone", "-q", url, "clone2", check=False)
    assert cp.returncode != 0 and "is not a zagi repository state" in cp.stderr


def test_force_delete_and_notes_follow_gits_rules(tmp_path: Path) -> None:
    url = f"zagi::file://{tmp_path}/bucket/app"
    src = new_repo(tmp_path / "src")
    base = commit(src, "a.txt", "a\n")
    git(src, "push", "-q", url, "main", "main:refs/heads/topic")
    git(tmp_path, "clone", "-q", url, "other")
    other = tmp_path / "other"
    commit(other, "o.txt", "theirs\n")
    git(other, "push", "-q", "origin", "main")
    # A push that would lose their commit is refused; with --force it is explicit.
    commit(src, "b.txt", "mine\n")
    refused = git(src, "push", url, "main", check=False)
    assert refused.returncode != 0 and "rejected" in refused.stderr
    git(src, "push", "-q", "--force", url, "main")
    listed = state(tmp_path / "bucket")["refs"]
    assert listed["refs/heads/main"] == git(src, "rev-parse", "HEAD").stdout.strip()
    # Deleting a branch is a push of nothing to it.
    git(src, "push", "-q", url, ":refs/heads/topic")
    assert "refs/heads/topic" not in state(tmp_path / "bucket")["refs"]
    # zagi push carries the provenance notes too.
    git(src, "remote", "add", "origin", url)
    git(src, "notes", "--ref", "zagi", "add", "-m", "env: node 20", base)
    ran = subprocess.run([f"{BIN}/zagi", "push", "--json"], cwd=src, env=env(),
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "provenance notes pushed" in json.loads(ran.stdout)["notes"]
    git(other, "fetch", "-q", "origin", "refs/notes/zagi:refs/notes/zagi")
    assert git(other, "notes", "--ref", "zagi", "show", base).stdout.strip() == "env: node 20"
