"""Publishing to binary caches and cloning from them: file:// and S3 (moto over HTTP), real Nix."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require, zagi_exe
from tests.integration.conftest import S3_ENV, STANDIN, drop_roots, new_bucket
from zagi.formats import keys, nar

pytestmark = pytest.mark.integration

# Candidate envs for "machine B starts without these paths": the first whose whole closure
# can be deleted from the shared store (other envs on the machine may keep some alive).
CANDIDATES = [
    '[tools]\nzig = "0.12"\n[system]\npackages = ["sqlite"]\n',
    '[tools]\nzig = "0.12"\nuv = "0.1"\n',
    '[tools]\ngo = "1.21"\nuv = "0.1"\n',
    '[tools]\npython = "3.11"\nzig = "0.12"\n',
    '[tools]\nnode = "18"\nuv = "0.1"\n',
    '[tools]\npython = "3.11"\n[system]\npackages = ["openssl"]\n',
]


class Machine:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, **S3_ENV, "ZAGI_HOME": str(home), "ZAGI_NIXPKGS": str(STANDIN),
                    "XDG_CONFIG_HOME": str(home / "config"),
                    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                    "GIT_COMMITTER_EMAIL": "t@t"}

    def trust(self, *keys: str) -> None:
        """What a user does to trust a cache key: their own config, never the repo's."""
        cfg = self.home / "config" / "zagi" / "config.toml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text("[cache]\npublic_keys = [" + ", ".join(f'"{k}"' for k in keys) + "]\n")

    def z(self, *args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        cp = subprocess.run([zagi_exe(), *args], cwd=cwd, env=self.env, capture_output=True,
                            text=True, timeout=300)
        if check:
            assert cp.returncode == 0, f"zagi {args}: {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
        return cp


def _delete_closure(closure: list[str], out: str) -> bool:
    """Remove the paths from the store, and any unrooted garbage that refers to them.

    Nix refuses to delete a path while anything refers to it, even garbage, and it
    refuses anything that is rooted: only garbage and these paths go, one at a time,
    in passes until nothing more can be deleted.
    """
    # A derivation stays alive while any of its outputs does (keep-derivations), and the
    # stand-in's .drv files all refer to its bootstrap: their outputs go too (if unrooted),
    # and so, until nothing new turns up, whatever refers to those (an env of a server).
    doomed: set[str] = set()
    todo = [p for p in closure if Path(p).exists()]
    while todo:
        found = set(subprocess.run(["nix-store", "--query", "--referrers-closure", *todo],
                                   capture_output=True, text=True).stdout.split())
        drvs = [p for p in found - doomed if p.endswith(".drv")]
        if drvs:
            found.update(subprocess.run(["nix-store", "--query", "--outputs", *drvs],
                                        capture_output=True, text=True).stdout.split())
        todo = [p for p in found - doomed if Path(p).exists()]
        doomed |= found
    for _ in range(len(doomed) + 1):
        progress = False
        for p in sorted(doomed):
            if Path(p).exists() and subprocess.run(["nix-store", "--delete", p],
                                                   capture_output=True).returncode == 0:
                progress = True
        if not progress:
            break
    return not any(Path(p).exists() for p in closure)


def _why_alive(paths: list[str]) -> str:
    for p in paths:
        if Path(p).exists():
            roots = subprocess.run(["nix-store", "--query", "--roots", p], capture_output=True,
                                   text=True).stdout.strip()
            return f"{p} is kept by: {roots or 'a referrer'}"
    return ""


def published_repo(tmp_path: Path, cache_url: str) -> tuple[Path, str, dict[str, Any]]:
    """Machine A: a git repo with .zagi/, synced and published; its paths then deleted."""
    require("nix-store")
    require("git")
    a = Machine(tmp_path / "machine-a")
    pub = a.z("keys", "generate", "test-cache-1", cwd=tmp_path).stdout.strip()
    why = ""
    for n, spec in enumerate(CANDIDATES):
        drop_roots(a.home)
        repo = tmp_path / f"repo{n}"
        (repo / ".zagi").mkdir(parents=True)
        (repo / ".zagi" / "env.toml").write_text(spec)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        a.z("sync", cwd=repo)
        a.z("publish", "--to", cache_url, cwd=repo)
        (repo / ".zagi" / "config.toml").write_text(
            f'[cache]\nurls = ["{cache_url}"]\npublic_keys = ["{pub}"]\n')
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(repo), "commit", "-qm", "env"], check=True, env=a.env)
        lock = json.loads((repo / ".zagi" / "env.lock").read_text())
        entry = next(iter(lock["systems"].values()))
        drop_roots(a.home)
        closure = [p["path"] for p in entry["closure"]]
        if _delete_closure(closure, entry["out"]):
            return repo, pub, entry
        why = _why_alive(closure)
    pytest.fail(f"every candidate env is kept alive on this machine; e.g. {why}")


@pytest.mark.parametrize("backend", ["file", "s3"])
def test_clone_is_a_download_not_a_build(tmp_path: Path, backend: str,
                                         request: pytest.FixtureRequest) -> None:
    if backend == "s3":
        endpoint = request.getfixturevalue("s3_server")
        url = f"s3://{new_bucket(endpoint)}/envs-cache?endpoint={endpoint}&region=us-east-1"
    else:
        url = f"file://{tmp_path / 'cache'}"
    repo, pub, entry = published_repo(tmp_path, url)
    b = Machine(tmp_path / "machine-b")
    b.trust(pub)
    ran = b.z("clone", "--json", str(repo), str(tmp_path / "clone"), cwd=tmp_path)
    data = json.loads(ran.stdout)
    assert data["built"] == []                      # nothing was built...
    assert data["source"] == url                    # ...it came from the cache
    assert len(data["fetched"]) == len(entry["closure"])
    assert "Cloning... done" in ran.stderr
    assert (tmp_path / "clone" / ".zagi" / "env").readlink() == Path(str(entry["out"]))
    human = Machine(tmp_path / "machine-c")
    drop_roots(b.home)
    assert _delete_closure([p["path"] for p in entry["closure"]], str(entry["out"]))
    said = human.z("clone", "--trust", pub, str(repo), str(tmp_path / "clone2"), cwd=tmp_path)
    assert "Resolving env... cached (" in said.stdout
    drop_roots(human.home)


def test_plain_nix_reads_the_cache(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'cache'}"
    _repo, pub, entry = published_repo(tmp_path, url)
    out = str(entry["out"])
    copied = subprocess.run(["nix", "--extra-experimental-features", "nix-command", "copy",
                             "--from", url, out, "--option", "trusted-public-keys", pub],
                            capture_output=True, text=True)
    assert copied.returncode == 0, copied.stderr
    assert all(Path(p["path"]).exists() for p in entry["closure"])
    assert _delete_closure([p["path"] for p in entry["closure"]], out)
    sub = subprocess.run(["nix-store", "--realise", out, "--option", "substituters", url,
                          "--option", "trusted-public-keys", pub], capture_output=True, text=True)
    assert sub.returncode == 0 and "copying path" in sub.stderr, sub.stderr
    # ...and refuses it without our key: our signatures are what Nix checks.
    assert _delete_closure([p["path"] for p in entry["closure"]], out)
    other = keys.SecretKey.generate("someone-else-1").public()
    refused = subprocess.run(["nix", "--extra-experimental-features", "nix-command", "copy",
                              "--from", url, out, "--option", "trusted-public-keys", other],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "valid signature" in refused.stderr


@pytest.mark.parametrize("damage", ["untrusted-key", "tampered-narinfo", "missing-nar",
                                    "truncated-nar"])
def test_bad_caches_are_refused_and_the_env_is_built(tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    repo, pub, entry = published_repo(tmp_path, f"file://{cache}")
    out = str(entry["out"])
    narinfo = cache / (out.removeprefix("/nix/store/")[:32] + ".narinfo")
    text = narinfo.read_text()
    nar_file = cache / next(ln.split(": ")[1] for ln in text.splitlines() if ln.startswith("URL:"))
    b = Machine(tmp_path / "machine-b")
    if damage == "untrusted-key":  # the user trusts a key, just not the one that signed
        b.trust(keys.SecretKey.generate("other-1").public())
    else:
        b.trust(pub)
    if damage == "tampered-narinfo":
        narinfo.write_text(text.replace("NarSize: ", "NarSize: 1"))
    elif damage == "missing-nar":
        nar_file.unlink()
    else:
        nar_file.write_bytes(nar_file.read_bytes()[:10])
    ran = b.z("sync", "--json", cwd=repo)
    data = json.loads(ran.stdout)
    assert data["source"] is None and data["built"], "it must fall back to building"
    notes = " ".join(data["notes"])
    if damage in ("untrusted-key", "tampered-narinfo"):
        named = [p["path"] for p in entry["closure"] if p["path"] in notes]
        assert named and "not by a trusted key" in notes and str(cache) in notes
    else:
        assert "building instead" in notes or "were built instead" in notes
    # The store is sound: the built env matches the lock, and its tool runs.
    verify = subprocess.run(["nix-store", "--verify-path", out], capture_output=True)
    assert verify.returncode == 0
    drop_roots(b.home)


def test_storage_conditional_writes(tmp_path: Path, s3_server: str) -> None:
    from zagi.storage import open_url

    os.environ.update(S3_ENV)
    urls = [f"file://{tmp_path / 'dir'}",
            f"s3://{new_bucket(s3_server)}/p?endpoint={s3_server}&region=us-east-1"]
    for url in urls:
        st = open_url(url)
        assert st.get("refs/latest") is None
        assert st.put_if_absent("refs/latest", b"one") is True
        assert st.put_if_absent("refs/latest", b"two") is False  # no lost update
        got = st.get_etag("refs/latest")
        assert got is not None and got[0] == b"one"
        assert st.put_if_match("refs/latest", b"three", got[1]) is True
        assert st.put_if_match("refs/latest", b"four", got[1]) is False  # stale etag
        assert st.get("refs/latest") == b"three"
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(9 << 20))  # above the multipart threshold
        st.put_file("nar/big", big)
        assert st.get("nar/big") == big.read_bytes()
        assert sorted(st.list("refs")) == ["refs/latest"]


def test_concurrent_publishers_leave_a_consistent_cache(tmp_path: Path) -> None:
    require("nix-store")
    cache = tmp_path / "cache"
    a = Machine(tmp_path / "a")
    a.z("keys", "generate", "k-1", cwd=tmp_path)
    repos = []
    for n, spec in enumerate(['[tools]\nnode = "20"\n[system]\npackages = ["libpq"]\n',
                              '[tools]\nnode = "20"\n[system]\npackages = ["libpq", "sqlite"]\n']):
        r = tmp_path / f"r{n}"
        (r / ".zagi").mkdir(parents=True)
        (r / ".zagi" / "env.toml").write_text(spec)
        a.z("sync", cwd=r)
        repos.append(r)
    procs = [subprocess.Popen([zagi_exe(), "publish", "--to", f"file://{cache}"], cwd=r,
                              env=a.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for r in repos for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0, 0]
    for info_file in cache.glob("*.narinfo"):
        info = dict(ln.split(": ", 1) for ln in info_file.read_text().splitlines() if ": " in ln)
        assert (cache / info["URL"]).exists(), f"{info_file.name}: its NAR is missing"
        for ref in info.get("References", "").split():
            assert (cache / f"{ref[:32]}.narinfo").exists(), f"{info_file.name}: {ref} missing"
    assert len(list((cache / "envs").glob("*.json"))) == 2
    drop_roots(a.home)


def test_the_readme_demo_runs(tmp_path: Path) -> None:
    require("nix-store")
    env = {**os.environ, "ZAGI": zagi_exe(), "TMPDIR": str(tmp_path)}
    cp = subprocess.run(["bash", "scripts/demo.sh"], cwd=Path(__file__).parents[2], env=env,
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "Resolving env... cached (" in cp.stdout
    assert ") from file://" in cp.stdout  # a real download from the maintainer's cache
    assert cp.stdout.strip().endswith("v22.2.0")


def test_cachix_push_api_and_http_serving(tmp_path: Path) -> None:
    import hashlib

    import httpx

    require("nix-store")
    EMPTY_FILE_HASH = nar.nix32(hashlib.sha256(b"").digest())
    SIG = "k-1:" + "A" * 86 + "=="  # well-formed; this server trusts any signer
    store_dir = tmp_path / "served"
    env = {**os.environ, "ZAGI_HOME": str(tmp_path / "server-home"), "ZAGI_CACHE_TOKEN": "s3cret"}
    server = subprocess.Popen([zagi_exe(), "cache", "serve", "--from", f"file://{store_dir}",
                               "--port", "0", "--name", "team", "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        http, push = info["url"], info["push"]
        a = Machine(tmp_path / "machine-a")
        pub = a.z("keys", "generate", "team-1", cwd=tmp_path).stdout.strip()
        repo = tmp_path / "repo"
        (repo / ".zagi").mkdir(parents=True)
        (repo / ".zagi" / "env.toml").write_text('[tools]\nnode = "18"\n[system]\npackages = ["sqlite"]\n')
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        a.z("sync", cwd=repo)
        denied = a.z("publish", "--to", push, cwd=repo, check=False)
        assert denied.returncode == 1 and "401" in denied.stderr  # no token: refused
        a.env["ZAGI_CACHE_TOKEN"] = "s3cret"
        pushed = json.loads(a.z("publish", "--to", push, "--json", cwd=repo).stdout)
        lock = json.loads((repo / ".zagi" / "env.lock").read_text())
        entry = next(iter(lock["systems"].values()))
        assert len(pushed["uploaded"]) == len(entry["closure"])
        again = json.loads(a.z("publish", "--to", push, "--json", cwd=repo).stdout)
        assert again["uploaded"] == [] and again["skipped"] == len(entry["closure"])
        assert httpx.get(f"{http}/nix-cache-info").status_code == 200
        # The server keeps the cache consistent: a narinfo whose reference is absent is refused.
        start = httpx.post(f"{http}/api/v1/cache/team/multipart-nar",
                           headers={"Authorization": "Bearer s3cret"}).json()
        bad = httpx.post(f"{http}/api/v1/cache/team/multipart-nar/{start['narId']}/complete",
                         params={"uploadId": start["uploadId"]},
                         headers={"Authorization": "Bearer s3cret"},
                         json={"parts": [], "narInfoCreate": {
                             "cStoreHash": "a" * 32, "cStoreSuffix": "x", "cNarHash": "sha256:" + "0" * 52,
                             "cNarSize": 1, "cFileHash": EMPTY_FILE_HASH, "cSig": SIG,
                             "cFileSize": 0, "cReferences": ["b" * 32 + "-missing"]}})
        assert bad.status_code == 409 and "references" in bad.text
        drop_roots(a.home)
        closure = [p["path"] for p in entry["closure"]]
        if not _delete_closure(closure, entry["out"]):
            pytest.fail(f"cannot empty the store for machine B: {_why_alive(closure)}")
        # Plain Nix reads the served cache over HTTP...
        sub = subprocess.run(["nix-store", "--realise", entry["out"], "--option", "substituters",
                              http, "--option", "trusted-public-keys", pub,
                              "--option", "narinfo-cache-negative-ttl", "0"],
                             capture_output=True, text=True)
        assert sub.returncode == 0 and "copying path" in sub.stderr, sub.stderr
        assert _delete_closure(closure, entry["out"])
        # ...and so does zagi: a clone on machine B is a download.
        (repo / ".zagi" / "config.toml").write_text(f'[cache]\nurls = ["{http}"]\npublic_keys = ["{pub}"]\n')
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(repo), "commit", "-qm", "env"], check=True, env=a.env)
        b = Machine(tmp_path / "machine-b")
        b.trust(pub)
        data = json.loads(b.z("clone", "--json", str(repo), str(tmp_path / "clone"), cwd=tmp_path).stdout)
        assert data["built"] == [] and data["source"] == http
        drop_roots(b.home)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_s3_failures_are_storage_errors_by_meaning(tmp_path: Path, s3_server: str) -> None:
    """boto3's exceptions (upload_file's S3UploadFailedError too) become zagi's, by kind."""
    from zagi.core.errors import NotFound
    from zagi.storage import open_url

    os.environ.update(S3_ENV)
    st = open_url(f"s3://no-such-bucket-zagi/p?endpoint={s3_server}&region=us-east-1")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 << 20))  # multipart: the upload_file path
    for write in (lambda: st.put("k", b"v"), lambda: st.put_file("nar/big", big)):
        with pytest.raises(NotFound) as info:
            write()
        assert info.value.to_json()["kind"] == "NotFound" and "no-such-bucket-zagi" in str(info.value)


def test_a_repos_own_key_is_never_trusted(tmp_path: Path) -> None:
    """A cloned repo names its cache and key in .zagi/config.toml; if zagi trusted that key,
    the repo could install any content under a genuine store path name for every project
    on the machine. It is a suggestion: shown, with the command to trust it."""
    url = f"file://{tmp_path / 'cache'}"
    repo, pub, entry = published_repo(tmp_path, url)
    b = Machine(tmp_path / "machine-b")  # trusts nothing of its own
    data = json.loads(b.z("clone", "--json", str(repo), str(tmp_path / "clone"), cwd=tmp_path).stdout)
    assert data["source"] is None and data["built"], "the repo's key must not be trusted"
    notes = " ".join(data["notes"])
    assert f"--trust {pub}" in notes and "only from you" in notes
    signed = subprocess.run(["nix", "--extra-experimental-features", "nix-command", "path-info",
                             "--json", str(entry["out"])], capture_output=True, text=True)
    assert pub.split(":")[0] not in signed.stdout  # built here, not imported on its say-so
    drop_roots(b.home)


def test_s3_streams_in_ranges_and_uploads_in_parts(tmp_path: Path, s3_server: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Sizes around the part size: every byte comes back in order (plain streams below
    the ranged threshold, ranged reads above it), a multipart upload appears only when
    complete, and a stream that fails midway leaves neither an object nor an unfinished
    upload."""
    from zagi.storage import open_url, s3
    from zagi.storage.s3 import PART

    monkeypatch.setattr(s3, "RANGED", 2 * PART)  # both read paths at test sizes

    os.environ.update(S3_ENV)
    bucket = new_bucket(s3_server)
    st = open_url(f"s3://{bucket}/p?endpoint={s3_server}&region=us-east-1")
    for size in (0, 1, PART - 1, PART, PART + 1, 3 * PART + 5):
        data = os.urandom(size)
        st.put_stream(f"nar/{size}", (data[i:i + 100_000] for i in range(0, size, 100_000)))
        pieces = st.stream(f"nar/{size}")
        assert pieces is not None and b"".join(pieces) == data, size
    assert st.stream("nar/absent") is None

    def failing() -> Iterator[bytes]:
        yield os.urandom(2 * PART + 1)  # two parts are already on their way
        raise ValueError("hash mismatch at the end")

    with pytest.raises(ValueError, match="hash mismatch"):
        st.put_stream("nar/failed", failing())
    assert st.get("nar/failed") is None
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_store_path_that_is_not_what_the_lock_says_is_never_published(tmp_path: Path) -> None:
    """The NAR is hashed as it streams to the cache; when the store's bytes are not the
    lock's (a tampered or rotted store, a doctored lock), the publish fails naming the
    path and the cache holds neither its NAR nor its narinfo (nor a temp file)."""
    require("nix-store")
    src = tmp_path / "src" / f"zagi-tamper-{os.getpid()}"
    src.mkdir(parents=True)
    (src / "data").write_bytes(os.urandom(3 << 20))
    path = subprocess.run(["nix-store", "--add", str(src)], capture_output=True, text=True,
                          check=True).stdout.strip()
    size = int(subprocess.run(["nix-store", "-q", "--size", path], capture_output=True,
                              text=True, check=True).stdout)
    from zagi.drivers import nix as nixd
    from zagi.formats import lockfile

    wrong = "sha256:" + nar.nix32(b"\0" * 32)
    proj = tmp_path / "proj"
    (proj / ".zagi").mkdir(parents=True)
    (proj / ".zagi" / "env.toml").write_text("schema = 1\n")
    lockfile.write(proj / ".zagi" / "env.lock", lockfile.parse(
        {"lock_version": 1, "spec_hash": "sha256:x", "nixpkgs": {}, "packages": {}, "env": {},
         "systems": {nixd.current_system(): {"out": path, "closure": [
             {"path": path, "narHash": wrong, "narSize": size}]}}}, "test"))
    home = tmp_path / "home"
    env = {**os.environ, "ZAGI_HOME": str(home)}
    subprocess.run([zagi_exe(), "keys", "generate", "t-1"], env=env, check=True,
                   capture_output=True)
    cache = tmp_path / "cache"
    ran = subprocess.run([zagi_exe(), "publish", "--to", f"file://{cache}"], cwd=proj, env=env,
                         capture_output=True, text=True)
    subprocess.run(["nix-store", "--delete", path], capture_output=True)
    assert ran.returncode == 1 and "refusing to publish" in ran.stderr and path in ran.stderr
    left = [p.relative_to(cache) for p in cache.rglob("*") if p.is_file()] if cache.exists() else []
    assert not [p for p in left if p.suffix in (".narinfo", ".zst") or p.name.startswith(".tmp")], left
