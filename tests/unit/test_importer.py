"""Staging checks every NAR against its signed narinfo before it is visible, and imports
run in waves that never add a path before its references."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import zstandard

from zagi.cache import importer
from zagi.core.errors import ZagiError
from zagi.formats import nar, narinfo
from zagi.formats.narinfo import NarInfo
from zagi.storage.memory import Memory

PATH = "/nix/store/" + "a" * 32 + "-hello"


def _info(data: bytes, compression: str = "zstd") -> NarInfo:
    digest = "sha256:" + nar.nix32(hashlib.sha256(data).digest())
    return NarInfo(store_path=PATH, url="nar/x.nar.zst", nar_hash=digest, nar_size=len(data),
                   compression=compression, references=["b" * 32 + "-dep"], sigs=["k-1:sig"])


def _cache(blob: bytes) -> Memory:
    m = Memory("memory://importer-test")
    m.put("nar/x.nar.zst", blob)
    return m


def test_a_good_nar_is_staged_plain_with_its_signature(tmp_path: Path) -> None:
    data = b"nix-archive-1" * 100_000
    info = _info(data)
    url = importer.stage(_cache(zstandard.ZstdCompressor().compress(data)), {PATH: info},
                         tmp_path / "stage")
    assert url == f"file://{tmp_path / 'stage'}"
    staged = NarInfo.parse((tmp_path / "stage" / narinfo.narinfo_key(PATH)).read_text(), "t")
    assert staged.compression == "none" and staged.sigs == info.sigs
    assert staged.fingerprint() == info.fingerprint()  # the signature still verifies
    assert (tmp_path / "stage" / staged.url).read_bytes() == data


@pytest.mark.parametrize("damage", ["truncated", "other-nar", "bomb"])
def test_a_bad_nar_is_refused_and_nothing_is_staged(tmp_path: Path, damage: str) -> None:
    data = b"x" * 300_000
    info = _info(data)
    if damage == "truncated":
        blob = zstandard.ZstdCompressor().compress(data)[:-20]
    elif damage == "other-nar":
        blob = zstandard.ZstdCompressor().compress(b"y" * 300_000)
    else:  # decompresses to far more than NarSize: stopped at NarSize, not at the end
        blob = zstandard.ZstdCompressor().compress(b"x" * (64 << 20))
    with pytest.raises(ZagiError, match=r"truncated or tampered|more than the"):
        importer.stage(_cache(blob), {PATH: info}, tmp_path / "stage")
    assert not list((tmp_path / "stage" / "nar").iterdir())
    assert not (tmp_path / "stage" / narinfo.narinfo_key(PATH)).exists()


def test_a_missing_nar_and_an_unknown_compression_are_named(tmp_path: Path) -> None:
    info = _info(b"z")
    with pytest.raises(ZagiError, match="is missing"):
        importer.stage(Memory("memory://empty-importer"), {PATH: info}, tmp_path / "s1")
    info.compression = "lz4"
    with pytest.raises(ZagiError, match="'lz4' is not one zagi reads"):
        importer.stage(_cache(b"z"), {PATH: info}, tmp_path / "s2")


def test_waves_put_every_path_after_its_references() -> None:
    refs = {"c": ["b", "a"], "b": ["a"], "a": ["a"], "d": [], "e": ["outside"]}
    got = importer.waves(["a", "b", "c", "d", "e"], refs)
    assert got == [["a", "d", "e"], ["b"], ["c"]]
    with pytest.raises(ZagiError, match="cycle"):
        importer.waves(["x", "y"], {"x": ["y"], "y": ["x"]})


def test_batches_split_a_wave_by_bytes() -> None:
    sizes = {"big": 100, "m1": 50, "m2": 50, "s": 1}
    got = importer._batches(["big", "m1", "m2", "s"], sizes, 2)
    assert sorted(sorted(b) for b in got) == [["big", "s"], ["m1", "m2"]]
    assert importer._batches(["only"], {"only": 5}, 8) == [["only"]]
