"""Every storage backend keeps the same promises (the S3 one against a real server:
tests/integration/test_cache.py); conditional writes are what refs and caches rely on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from zagi.core.errors import EXIT_BAD_INPUT, BadInput, ReadOnly, StorageError
from zagi.storage import Storage, open_url
from zagi.storage.memory import Memory


@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "file":
        yield open_url(f"file://{tmp_path / 'cache'}")
    else:
        yield Memory(f"memory://{tmp_path.name}")


def test_absent_objects_are_none(store: Storage) -> None:
    assert store.get("nope") is None and store.get_etag("nope") is None
    assert not store.exists("nope")


def test_put_if_absent_creates_once(store: Storage) -> None:
    assert store.put_if_absent("a/b", b"one") is True
    assert store.put_if_absent("a/b", b"two") is False
    assert store.get("a/b") == b"one"


def test_put_if_match_is_compare_and_swap(store: Storage) -> None:
    store.put("ref", b"v1")
    got = store.get_etag("ref")
    assert got is not None
    data, etag = got
    assert data == b"v1"
    assert store.put_if_match("ref", b"v2", etag) is True
    assert store.put_if_match("ref", b"v3", etag) is False  # the ETag moved on: a lost race
    assert store.get("ref") == b"v2"
    assert store.put_if_match("missing", b"x", etag) is False


def test_list_by_prefix(store: Storage, tmp_path: Path) -> None:
    for key in ("envs/a.json", "envs/b.json", "nar/x.nar.zst"):
        store.put(key, b"x")
    src = tmp_path / "big"
    src.write_bytes(b"y" * 3_000_000)
    store.put_file("nar/big.nar.zst", src)
    assert sorted(store.list("envs/")) == ["envs/a.json", "envs/b.json"]
    assert store.get("nar/big.nar.zst") == b"y" * 3_000_000


def test_memory_urls_name_one_store() -> None:
    a, b = open_url("memory://shared-x"), open_url("memory://shared-x")
    a.put("k", b"v")
    assert b.get("k") == b"v"


def test_a_file_cache_refuses_keys_outside_it(tmp_path: Path) -> None:
    st = open_url(f"file://{tmp_path / 'cache'}")
    with pytest.raises(BadInput):
        st.put("../escape", b"x")
    (tmp_path / "cache" / "adir").mkdir(parents=True)
    assert st.get("adir") is None  # a directory is not an object


def test_a_file_cache_that_cannot_be_written_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the directory should be")
    with pytest.raises(StorageError) as info:
        open_url(f"file://{tmp_path / 'cache'}").put("k", b"v")
    assert info.value.to_json()["kind"] == "Unavailable"


def test_http_caches_are_read_only() -> None:
    st = open_url("http://127.0.0.1:9/")
    with pytest.raises(ReadOnly) as info:
        st.put("k", b"v")
    assert info.value.exit_code == EXIT_BAD_INPUT


def test_unknown_schemes_are_bad_input() -> None:
    with pytest.raises(BadInput, match="expected file:///path"):
        open_url("ftp://x/y")


def test_stream_gives_the_bytes_in_pieces_or_none(store: Storage) -> None:
    assert store.stream("nar/none") is None
    data = bytes(range(256)) * 9000  # > 2 MiB: more than one piece
    store.put("nar/x", data)
    pieces = store.stream("nar/x")
    assert pieces is not None
    got = list(pieces)
    assert len(got) > 1 and b"".join(got) == data


def test_put_stream_writes_as_it_comes(store: Storage) -> None:
    store.put_stream("nar/y", (bytes([i]) * 1000 for i in range(50)))
    assert store.get("nar/y") == b"".join(bytes([i]) * 1000 for i in range(50))


def test_a_failing_stream_leaves_nothing(store: Storage, tmp_path: Path) -> None:
    """The writer checks a NAR's hash at the end of its stream: an error there must leave
    no object (and, for a directory, no temp file) behind."""
    def pieces() -> Iterator[bytes]:
        yield b"a" * 1000
        raise ValueError("the NAR is not the one the lock names")

    with pytest.raises(ValueError, match="lock names"):
        store.put_stream("nar/z", pieces())
    assert store.get("nar/z") is None and not store.exists("nar/z")
    leftovers = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] \
        if (tmp_path / "cache").exists() else []
    assert leftovers == []
