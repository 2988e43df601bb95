"""The rules every cache writer shares (zagi/cache/rules.py), on an in-memory store."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zagi.cache import rules
from zagi.core.errors import Conflict
from zagi.formats.narinfo import NarInfo, narinfo_key
from zagi.storage.memory import Memory

PATH = "/nix/store/" + "a" * 32 + "-x"


def info(nar_hash: str) -> NarInfo:
    return NarInfo(PATH, "nar/f.nar.zst", nar_hash, 10)


def test_a_narinfo_is_written_once_and_never_replaced_with_another_nar_hash() -> None:
    st = Memory()
    key = narinfo_key(PATH)
    assert rules.commit_narinfo(st, key, info("sha256:" + "0" * 52)) is True
    assert rules.commit_narinfo(st, key, info("sha256:" + "0" * 52)) is False  # same: fine
    with pytest.raises(Conflict, match="another NarHash"):
        rules.commit_narinfo(st, key, info("sha256:" + "1" * 52))
    assert NarInfo.parse((st.get(key) or b"").decode(), key).nar_hash == "sha256:" + "0" * 52


def test_reference_order_puts_references_first() -> None:
    refs = {"c": ["b", "c"], "b": ["a"], "a": [], "d": ["x"]}  # x is already in the cache
    order = rules.reference_order(["d", "c", "b", "a"], refs)
    assert sorted(order) == ["a", "b", "c", "d"]
    assert order.index("a") < order.index("b") < order.index("c")


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=3000), max_size=40), st.integers(min_value=1, max_value=4096))
def test_batching_nar_pieces_keeps_every_byte_in_order(pieces: list[bytes], size: int) -> None:
    """publish hashes and compresses the NAR in batches: the bytes are exactly the NAR's."""
    from zagi.formats import nar

    out = list(nar.batched(iter(pieces), size))
    assert b"".join(out) == b"".join(pieces)
    assert all(len(c) >= size for c in out[:-1])
