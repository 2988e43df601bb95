"""A cloned repository's env.lock is untrusted input: it may name only package sets zagi
can vouch for. A lock pointing at another package set would have zagi evaluate that
set's code as the user (it read the user's age identity here) before any `zagi allow`."""

from __future__ import annotations

import json
import subprocess
import tarfile
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Ran
from tests.integration.conftest import make_project

pytestmark = pytest.mark.integration

EVIL = """{ system ? builtins.currentSystem, ... }:
# A "package set" whose evaluation reads the user's key and prints it (in an error, so any
# evaluation at all leaks it), and whose builder would leave a marker behind.
let key = builtins.readFile IDENTITY;
in throw "stolen: ${key}"
"""


# A package set of its own: evaluates fine, and would run its own builder.
TINY_SET = """{ system ? builtins.currentSystem, ... }: rec {
  sh = derivation { name = "tiny"; inherit system; builder = "/bin/sh";
                    args = [ "-c" "echo built > $out" ]; };
  nodejs_20 = sh;
  buildEnv = { name, paths, ... }: derivation { inherit name system; builder = "/bin/sh";
                                                 args = [ "-c" "mkdir $out" ]; };
}
"""


def _evil_lock(tmp_path: Path, z: Callable[..., Ran], zenv: dict[str, str]) -> tuple[Path, str, str]:
    canary = f"AGE-SECRET-KEY-{uuid.uuid4().hex.upper()}"
    identity = tmp_path / "identity.txt"
    identity.write_text(canary + "\n")
    # a name the catalog has no paths for (an escape hatch), so its package set is evaluated
    p = make_project(tmp_path / "repo", '[tools]\nmynode = { attr = "nodejs_20" }\n')
    z("lock", cwd=p)
    src = tmp_path / "evil"
    src.mkdir()
    (src / "default.nix").write_text(EVIL.replace("IDENTITY", str(identity)))
    tarball = tmp_path / "evil.tar.gz"
    with tarfile.open(tarball, "w:gz") as tf:
        tf.add(src, arcname="evil")
    sha = subprocess.run(["nix-hash", "--type", "sha256", "--base32", str(src)],
                         capture_output=True, text=True, check=True).stdout.strip()
    url = f"file://{tarball}"
    lock = json.loads((p / ".zagi" / "env.lock").read_text())
    (rev,) = lock["nixpkgs"]
    lock["nixpkgs"][rev] = {"url": url, "rev": "0" * 40, "sha256": sha}
    lock["systems"] = {}  # consistent with env.toml (same spec_hash): nothing to relock
    (p / ".zagi" / "env.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    return p, url, canary


def test_a_lock_naming_a_foreign_package_set_is_refused_unevaluated(
        tmp_path: Path, z: Callable[..., Ran], zenv: dict[str, str]) -> None:
    p, url, canary = _evil_lock(tmp_path, z, zenv)
    ran = z("sync", cwd=p, check=False)
    assert ran.code == 2, ran.out + ran.err
    assert "cannot vouch for" in ran.err and url in ran.err and "--allow-source" in ran.err
    assert canary not in ran.out + ran.err  # nothing was evaluated
    assert not (p / ".zagi" / "env").exists()
    # the same through `zagi run` (which syncs first) and with --frozen
    assert z("run", "--", "true", cwd=p, check=False).code == 2
    assert "cannot vouch for" in z("sync", "--frozen", cwd=p, check=False).err


def test_an_allowed_source_is_still_evaluated_restricted(
        tmp_path: Path, z: Callable[..., Ran], zenv: dict[str, str]) -> None:
    """Allowing the source is the user's decision; even then its evaluation cannot read
    the user's files (restrict-eval), and the control shows what it would have done."""
    p, url, canary = _evil_lock(tmp_path, z, zenv)
    ran = z("sync", "--allow-source", url, cwd=p, check=False)
    assert ran.code != 0 and canary not in ran.out + ran.err
    assert "forbidden in restricted mode" in ran.err
    evil = tmp_path / "evil" / "default.nix"
    unrestricted = subprocess.run(["nix-instantiate", "--eval", "-E", f"import {evil} {{}}"],
                                  capture_output=True, text=True)
    assert f"stolen: {canary}" in unrestricted.stderr  # the control


def test_a_lock_whose_store_paths_are_not_the_catalogs_is_refused_before_fetching(
        tmp_path: Path, z: Callable[..., Ran]) -> None:
    """The lock's per-system paths are what the env is made of: a repository that swaps
    one (here node's for a path of its own choosing) is refused, nothing fetched."""
    p = make_project(tmp_path / "repo", '[tools]\nnode = "20"\n')
    z("lock", cwd=p)
    lock = json.loads((p / ".zagi" / "env.lock").read_text())
    (system,) = lock["systems"]
    planted = "/nix/store/" + "q" * 32 + "-nodejs-20.12.2"
    lock["systems"][system]["packages"]["node"] = [planted]
    lock["systems"][system].pop("closure")  # so no cache is asked for it either
    (p / ".zagi" / "env.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    ran = z("sync", "--json", cwd=p, check=False)
    assert ran.code == 2, ran.out + ran.err
    assert "store paths for node are not what the catalog" in ran.json()["error"]
    assert not (p / ".zagi" / "env").exists()


def test_an_allowed_source_is_not_built_without_the_sandbox(
        tmp_path: Path, z: Callable[..., Ran], zenv: dict[str, str]) -> None:
    """A package set outside the catalog brings its own builders: not without Nix's
    sandbox (Debian's nix-bin here has sandbox = false), unless the user accepts it."""
    p = make_project(tmp_path / "repo", '[tools]\nmynode = { attr = "nodejs_20" }\n')
    z("lock", cwd=p)
    lock = json.loads((p / ".zagi" / "env.lock").read_text())
    (rev,) = lock["nixpkgs"]
    src = tmp_path / "copy"
    src.mkdir()
    (src / "default.nix").write_text(TINY_SET)
    tarball = tmp_path / "copy.tar.gz"
    with tarfile.open(tarball, "w:gz") as tf:
        tf.add(src, arcname="copy")
    sha = subprocess.run(["nix-hash", "--type", "sha256", "--base32", str(src)],
                         capture_output=True, text=True, check=True).stdout.strip()
    lock["nixpkgs"][rev] = {"url": f"file://{tarball}", "rev": "1" * 40, "sha256": sha}
    lock["systems"] = {}
    (p / ".zagi" / "env.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    ran = z("sync", "--allow-source", f"file://{tarball}", cwd=p, check=False)
    assert ran.code == 2 and "sandbox" in ran.err and "--allow-unsandboxed" in ran.err
