"""Our NAR, nix32 and narinfo signatures, checked against the real Nix on the machine."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import require
from zagi.formats import keys, nar
from zagi.formats.narinfo import NarInfo

pytestmark = pytest.mark.integration


def make_tree(root: Path) -> Path:
    d = root / "tree"
    (d / "nested" / "deeper").mkdir(parents=True)
    (d / "empty-dir").mkdir()
    (d / "empty-file").write_bytes(b"")
    (d / "B").write_text("upper first by bytes")
    (d / "a").write_text("x" * 9)  # not a multiple of 8: padding
    run = d / "nested" / "run.sh"
    run.write_text("#!/bin/sh\necho hi\n")
    run.chmod(0o755)
    (d / "nested" / "deeper" / "blob").write_bytes(os.urandom(70_000))
    os.symlink("../a", d / "nested" / "link")
    os.symlink("/nonexistent/target", d / "dangling")
    (d / "caf\u00e9-\u00fcml").write_text("utf-8 name")
    return d


def test_nar_is_byte_identical_to_nix_store_dump(tmp_path: Path) -> None:
    require("nix-store")
    tree = make_tree(tmp_path)
    for path in (tree, tree / "a", tree / "empty-file", tree / "empty-dir", tree / "nested" / "link"):
        ours = b"".join(nar.dump(path))
        theirs = subprocess.run(["nix-store", "--dump", str(path)], capture_output=True,
                                check=True).stdout
        assert ours == theirs, path


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=64))
def test_nix32_matches_nix_hash(data: bytes) -> None:
    hexdigest = hashlib.sha256(data).hexdigest()
    theirs = subprocess.run(["nix-hash", "--type", "sha256", "--to-base32", hexdigest],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert nar.nix32(bytes.fromhex(hexdigest)) == theirs
    assert nar.nix32_decode(theirs) == bytes.fromhex(hexdigest)


def test_vectors_from_the_reference() -> None:
    assert nar.nix32(hashlib.sha256(b"").digest()) == \
        "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
    assert nar.nix32(hashlib.sha256(b"hello\n").digest()) == \
        "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq"


def test_narinfo_round_trip_and_signature(tmp_path: Path) -> None:
    key = keys.SecretKey.generate("k-1")
    info = NarInfo("/nix/store/" + "a" * 32 + "-x", "nar/abc.nar.zst", "sha256:" + "0" * 52,
                       120, references=[], file_hash="sha256:" + "1" * 52, file_size=80)
    info.sigs = [key.sign(info.fingerprint())]
    text = info.render()
    assert "References: \n" in text  # the trailing space Nix 2.8 needs
    back = NarInfo.parse(text, "x.narinfo")
    assert back == info
    assert keys.verify([key.public()], back.fingerprint(), back.sigs) == "k-1"
    back.nar_size += 1  # any change to the signed fields breaks the signature
    assert keys.verify([key.public()], back.fingerprint(), back.sigs) is None
    other = keys.SecretKey.generate("k-1")
    assert keys.verify([other.public()], info.fingerprint(), info.sigs) is None
    parsed = keys.SecretKey.parse(key.render(), "sec")
    assert parsed.public() == key.public()
