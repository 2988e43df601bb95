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
