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


@pytest.mark.parametrize(("mutate", "words"), [
    (lambda d: d.update(systems=[]), "systems: expected an object"),
    (lambda d: d["systems"]["x86_64-linux"].update(closure="all"), r"closure: expected a list"),
    (lambda d: d["systems"]["x86_64-linux"]["closure"][0].update(narSize="12"), "narSize"),
    (lambda d: d["systems"]["x86_64-linux"]["closure"][0].update(narSize=True), "narSize"),
    (lambda d: d.update(env={"A": 1}), r"env\.A: expected a string"),
    (lambda d: d["packages"].update(node={"kind": "tool"}), "packages.node: missing"),
    (lambda d: d["packages"].update(node={"kind": "tool", "request": "20", "version": "20.1",
                                          "attr": "nodejs", "nixpkgs": "nope"}), "a key of nixpkgs"),
    (lambda d: d["nixpkgs"].update(r={"sha256": "x"}), "either standin or url"),
    (lambda d: d.update(surprise=1), "surprise: expected no such key"),
])
def test_wrong_types_are_bad_input_not_crashes(tmp_path: Path,
                                               mutate: Callable[[dict[str, Any]], object],
                                               words: str) -> None:
    data = json.loads(json.dumps(GOOD))
    mutate(data)
    p = tmp_path / "env.lock"
    p.write_text(json.dumps(data))
    with pytest.raises(BadInput, match=words):
        lock.read(p)


def test_deep_nesting_and_special_files_are_bad_input(tmp_path: Path) -> None:
    import os

    p = tmp_path / "env.lock"
    p.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BadInput):
        lock.read(p)
    fifo = tmp_path / "fifo.lock"
    os.mkfifo(fifo)
    with pytest.raises(BadInput, match="not a regular file"):
        lock.read(fifo)  # returns at once instead of waiting for a writer


def test_the_typed_lock_round_trips_byte_for_byte(tmp_path: Path) -> None:
    full = json.loads(json.dumps(GOOD))
    full["nixpkgs"] = {"rev-a": {"standin": "rev-a", "sha256": "0abc"},
                       "26.05": {"url": "https://example.org/n.tar.gz", "rev": "abc", "sha256": "1x"}}
    full["packages"] = {"node": {"kind": "tool", "request": "20", "version": "20.12.2",
                                 "attr": "nodejs_20", "nixpkgs": "rev-a"},
                        "zig": {"kind": "tool", "request": "attr:zig", "version": None,
                                "attr": "zig", "nixpkgs": "26.05"},
                        "rust": {"kind": "tool", "request": "1.79", "version": "1.79.0",
                                 "attr": "rustc", "with": ["cargo"], "nixpkgs": "rev-a"}}
    full["systems"]["aarch64-darwin"] = {"out": "/nix/store/def-zagi-env"}
    parsed = lock.parse(full, "x")
    assert parsed.canonical() == lock.canonical(full)
    assert parsed.system("aarch64-darwin") == lock.SystemLock("/nix/store/def-zagi-env")
    assert parsed.packages["rust"].attrs == ("rustc", "cargo")
    full["packages"]["rust"]["with"] = "cargo"
    with pytest.raises(BadInput, match=r"packages\.rust\.with"):
        lock.parse(full, "x")


@pytest.mark.parametrize("name", ["PROMPT_COMMAND", "LD_PRELOAD", "GIT_CONFIG_COUNT"])
def test_the_locks_env_is_checked_again_at_read(tmp_path: Path, name: str) -> None:
    """A lock is repo input: a code-running variable refused in env.toml cannot come back
    through the lock's own env section (with a spec_hash that matches)."""
    data = json.loads(json.dumps(GOOD))
    data["env"] = {name: "x"}
    p = tmp_path / "env.lock"
    p.write_text(json.dumps(data))
    with pytest.raises(BadInput, match=f"env.{name}"):
        lock.read(p)


def test_a_lock_may_carry_only_the_nixpkgs_config_env_toml_can_ask_for(tmp_path: Path) -> None:
    """nixpkgs' config can hold Nix code (packageOverrides); a lock names two settings."""


    base = {"lock_version": 1, "spec_hash": "sha256:x", "nixpkgs": {}, "packages": {},
            "systems": {}}
    good = tmp_path / "good.lock"
    good.write_text(json.dumps({**base, "nixpkgs_config": {"allowUnfree": True}}))
    assert lock.read(good).nixpkgs_config == {"allowUnfree": True}
    for bad in ({"packageOverrides": "pkgs: {}"}, {"allowUnfree": "yes"},
                {"permittedInsecurePackages": "openssl-1.1.1w"}):
        path = tmp_path / "bad.lock"
        path.write_text(json.dumps({**base, "nixpkgs_config": bad}))
        with pytest.raises(BadInput) as err:
            lock.read(path)
        assert "nixpkgs_config" in err.value.message


@pytest.mark.parametrize("paths", [[], ["/etc/passwd"], "x", [3],
                                   ["/nix/store/" + "a" * 32 + "-x/../y"]])
def test_a_systems_package_paths_must_be_plain_store_paths(tmp_path: Path, paths: Any) -> None:
    bad = json.loads(json.dumps(GOOD))
    bad["systems"]["x86_64-linux"]["packages"] = {"node": paths}
    with pytest.raises(BadInput, match=r"systems\.x86_64-linux\.packages\.node"):
        lock.parse(bad, "x")
    good = json.loads(json.dumps(GOOD))
    good["systems"]["x86_64-linux"]["packages"] = {"node": ["/nix/store/" + "a" * 32 + "-n-1"]}
    assert lock.parse(good, "x").systems["x86_64-linux"].packages == {
        "node": ("/nix/store/" + "a" * 32 + "-n-1",)}
