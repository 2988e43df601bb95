"""The file access object detectors use: bounded, symlink-safe, never blocking."""

from __future__ import annotations

import os
from pathlib import Path

from detectors.fs import RepoFS


def make(tmp_path: Path) -> tuple[RepoFS, list[str]]:
    warnings: list[str] = []
    return RepoFS(str(tmp_path), warnings.append), warnings


def test_reads_text_and_strips_bom(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbfhello\n")
    fs, warnings = make(tmp_path)
    assert fs.text("a.txt") == "hello\n"
    assert fs.text("missing.txt") is None
    assert warnings == []


def test_huge_file_is_reported_not_read(tmp_path: Path) -> None:
    big = tmp_path / "package.json"
    with big.open("wb") as fh:  # sparse: 2 GiB that take no disk space
        fh.truncate(2 << 30)
    fs, warnings = make(tmp_path)
    assert fs.text("package.json") is None
    assert any("too large" in w and "package.json" in w for w in warnings)


def test_head_reads_only_the_start(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    with lock.open("wb") as fh:
        fh.write(b'{\n  "lockfileVersion": 3,\n  "packages": {\n')
        fh.write(b'    "node_modules/x": {"version": "1.0.0"},\n' * 100_000)
    fs, _ = make(tmp_path)
    head = fs.head("package-lock.json", 4096)
    assert head is not None and len(head) <= 4096 and '"lockfileVersion": 3' in head


def test_symlink_out_of_repo_is_refused(tmp_path: Path) -> None:
    os.symlink("/etc/passwd", tmp_path / ".nvmrc")
    (tmp_path / "sub").mkdir()
    os.symlink("/etc", tmp_path / "sub" / "etc")
    fs, warnings = make(tmp_path)
    assert fs.text(".nvmrc") is None
    assert fs.text("sub/etc/passwd") is None
    assert sum("outside the repository" in w for w in warnings) == 2


def test_symlink_inside_repo_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real").write_text("20\n")
    os.symlink("real", tmp_path / ".nvmrc")
    fs, _ = make(tmp_path)
    assert fs.text(".nvmrc") == "20\n"


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    os.symlink(".", tmp_path / "self")
    fs, _warnings = make(tmp_path)
    assert fs.text("a") is None
    dirs = [d for d, _ in fs.walk(5)]
    assert dirs == ["."]  # "self" is a symlinked dir: never entered


def test_fifo_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "package.json")
    fs, warnings = make(tmp_path)
    assert fs.text("package.json") is None
    assert any("not a regular file" in w for w in warnings)


def test_binary_and_non_utf8(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(b"abc\x00def")
    (tmp_path / "latin1").write_bytes(b"ok\nnaf\xefve\n")
    fs, warnings = make(tmp_path)
    assert fs.text("bin") is None and fs.text("latin1") is None
    assert any("binary" in w for w in warnings)
    assert any("latin1:2: not UTF-8" in w for w in warnings)


def test_walk_prunes_dependency_and_hidden_dirs_and_bad_names(tmp_path: Path) -> None:
    for d in ("node_modules/x", ".git/objects", "vendor/y", "apps/web", "a/b/c/d/e"):
        (tmp_path / d).mkdir(parents=True)
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"bad\xffname"))
    fs, _ = make(tmp_path)
    dirs = [d for d, _ in fs.walk(3)]
    assert "apps/web" in dirs and "a/b/c" in dirs
    assert not any(d.startswith(("node_modules", ".git", "vendor")) for d in dirs)
    assert "a/b/c/d" not in dirs  # depth bound
    assert all(d.isprintable() for d in dirs)
