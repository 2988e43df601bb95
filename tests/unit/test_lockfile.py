from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shellhooks import activation as store
from zagi.core.errors import BadInput
from zagi.core.layout import env_id_of
from zagi.formats import lockfile as lock

GOOD = {"lock_version": 1, "spec_hash": "sha256:x", "packages": {}, "nixpkgs": {}, "env": {},
        "systems": {"x86_64-linux": {"out": "/nix/store/abc-zagi-env", "closure": [
            {"path": "/nix/store/abc-zagi-env", "narHash": "sha256:0000", "narSize": 12}]}}}


def test_canonical_and_env_id_are_stable(tmp_path: Path) -> None:
    p = tmp_path / "env.lock"
    written = lock.write(p, lock.parse(dict(reversed(list(GOOD.items()))), "test"))
    assert p.read_bytes() == lock.canonical(GOOD)
    assert written.env_id == lock.read(p).env_id == env_id_of(p.read_bytes())
    assert len(written.env_id) == 32


@pytest.mark.parametrize(("mutate", "words"), [
    (lambda d: d.update(lock_version=9), "lock_version 9"),
    (lambda d: d.pop("packages"), "missing 'packages'"),
    (lambda d: d["systems"]["x86_64-linux"].update(out="/tmp/x"), "not a store path"),
    (lambda d: d["systems"]["x86_64-linux"]["closure"][0].update(narHash="md5:1"), r"closure\[0\]"),
])
def test_corrupt_locks_are_bad_input(tmp_path: Path, mutate: Callable[[dict[str, Any]], object],
                                    words: str) -> None:
    data = json.loads(json.dumps(GOOD))
    mutate(data)
    p = tmp_path / "env.lock"
    p.write_text(json.dumps(data))
    with pytest.raises(BadInput, match=words) as info:
        lock.read(p)
    assert info.value.hint and "zagi lock" in info.value.hint


def test_truncated_lock_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "env.lock"
    p.write_bytes(lock.canonical(GOOD)[:60])
    with pytest.raises(BadInput, match="not valid JSON") as info:
        lock.read(p)
    assert info.value.line is not None


def test_activation_prepends_and_quotes() -> None:
    act = store.activation("/nix/store/x-env", {"GREETING": "it's $HOME"})
    sh = store.render_sh(act)
    out = subprocess.run(["bash", "-c", f"PATH=/bin; unset MANPATH; {sh}\n"
                                        'echo "$PATH|$GREETING|$MANPATH"'],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "/nix/store/x-env/bin:/bin|it's $HOME|/nix/store/x-env/share/man:"
