"""Package-set sources are downloaded once (issue 12, item 5)."""

from __future__ import annotations

import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from tests.conftest import require
from zagi.drivers import nix

pytestmark = pytest.mark.integration


def test_prefetch_stores_the_tree_where_fetch_tarball_looks(tmp_path: Path) -> None:
    """`zagi lock` hashes a revision with nix-prefetch-url; the evaluation then asks for
    it with fetchTarball. Both must name the same store path, or it downloads twice."""
    require("nix-prefetch-url")
    tree = tmp_path / "nixpkgs-abc"
    tree.mkdir()
    (tree / "default.nix").write_text(f"# {uuid.uuid4()}\n{{ ... }}: {{ }}\n")  # a new tree
    tarball = tmp_path / "abc.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tree, arcname=tree.name)
    sha = nix.prefetch_tarball(f"file://{tarball}")
    where = subprocess.run(["nix-store", "--print-fixed-path", "--recursive", "sha256", sha,
                            "source"], capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_dir() and (Path(where) / "default.nix").exists()


def test_an_evaluated_source_is_gc_rooted_with_its_env(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A weekly nix-collect-garbage must not make the next `zagi lock` download nixpkgs
    again: sync roots the source trees beside the env, and gc drops them with it."""
    from zagi.core import layout
    from zagi.env import sync
    from zagi.formats.lockfile import Lock, Source

    monkeypatch.setenv("ZAGI_HOME", str(tmp_path / "home"))
    tree = tmp_path / "nixpkgs-src"
    tree.mkdir()
    (tree / "default.nix").write_text(f"# {uuid.uuid4()}\n{{ ... }}: {{ }}\n")
    tarball = tmp_path / "src.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tree, arcname=tree.name)
    url = f"file://{tarball}"
    sha = nix.prefetch_tarball(url)
    lk = Lock("sha256:x", {"r1": Source(sha, url=url, rev="r1")}, {}, {}, {})
    assert sync.root_sources(lk, "e" * 32, nix.Options()) == 1
    root = layout.source_root("e" * 32, 0)
    path = nix.fixed_output_path(sha)
    assert Path(path).is_dir()  # the computed fixed-output path is where Nix put it
    assert root.is_symlink() and str(root.resolve()) == path
    roots = subprocess.run(["nix-store", "--query", "--roots", path], capture_output=True,
                           text=True, check=True).stdout
    assert str(root) in roots
    assert root in layout.roots_of("e" * 32)
    root.unlink()
