"""`zagi catalog` against the catalog shipped in the package (no ZAGI_NIXPKGS)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tests.conftest import REPO, run_zagi

FACTS = REPO / "nixgen" / "facts" / "facts.jsonl"


def shipped_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "ZAGI_NIXPKGS"}


def test_search_shows_the_lines_from_real_facts_newest_first() -> None:
    ran = run_zagi("catalog", "search", "node", env=shipped_env())
    assert ran.code == 0, ran.err
    lines = {ln.split()[1]: ln for ln in ran.out.splitlines()}
    for line in ("18", "20", "22", "24"):
        assert line in lines and lines[line].split()[2].startswith(line + ".")
    assert lines["24"].endswith(" LTS") and lines["18"].endswith("LTS, end of life")
    order = [ln.split()[1] for ln in ran.out.splitlines()]
    assert order == sorted(order, key=int, reverse=True)
    data = json.loads(run_zagi("catalog", "search", "postgres", "--json", env=shipped_env()).out)
    assert [ln["line"] for ln in data["lines"]][:4] == ["18", "17", "16", "15"]
    first = data["versions"][0]
    assert first["version"].startswith("18.") and "x86_64-linux" in first["systems"]
    assert re.fullmatch(r"[\w.-]+/[\w.-]+:\S+@[0-9a-f]{40}", first["source"])


def test_resolve_prints_the_choice_with_its_store_paths_and_source() -> None:
    ran = run_zagi("catalog", "resolve", "node@20", "--json", env=shipped_env())
    assert ran.code == 0, ran.err
    doc = json.loads(ran.out)
    assert doc["version"].startswith("20.") and doc["attr"] == "nodejs_20"
    assert re.fullmatch(r"[0-9a-f]{40}", doc["commit"]) and doc["date"].startswith("20")
    assert doc["outputs"]["x86_64-linux"]["out"].endswith("-nodejs-" + doc["version"])
    assert doc["source"] and doc["note"] is None
    text = run_zagi("catalog", "resolve", "node@20", env=shipped_env())
    assert f"version  {doc['version']}" in text.out and doc["outputs"]["x86_64-linux"]["out"] in text.out


def test_resolve_a_pin_the_catalog_lacks_warns_or_exits_2() -> None:
    near = run_zagi("catalog", "resolve", "node@20.11.2", env=shipped_env())
    assert near.code == 0 and "version  20.11.1" in near.out
    assert "note: node 20.11.2 is not in the catalog; using 20.11.1" in near.err
    far = run_zagi("catalog", "resolve", "node@20.99.1", "--json", env=shipped_env())
    assert far.code == 2
    assert "no 20.99.x; nearest: " in json.loads(far.out)["error"]


def test_search_explains_a_library_without_version_facts() -> None:
    ran = run_zagi("catalog", "search", "vips", env=shipped_env())
    assert ran.code == 2
    assert "records no versions of it yet" in ran.err and "'vips'" in ran.err


def test_update_from_facts_reproduces_the_shipped_catalog(tmp_path: Path) -> None:
    out = tmp_path / "catalog.json"
    ran = run_zagi("catalog", "update", "--facts", str(FACTS), "--out", str(out), "--json",
                   env=shipped_env())
    assert ran.code == 0, ran.err
    doc = json.loads(ran.out)
    assert doc["entries"] > 1000 and doc["facts"] > 1500 and doc["bytes"] < 2 * 1024 * 1024
    assert out.read_bytes() == (REPO / "nixgen" / "data" / "catalog.json").read_bytes()


def test_update_needs_exactly_one_source(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    for args in ([], ["--facts", str(FACTS), "--nixpkgs", str(tmp_path)]):
        ran = run_zagi("catalog", "update", *args, "--out", str(out), env=shipped_env())
        assert ran.code == 2
        assert "give one of --nixpkgs CHECKOUT..., --facts FILE... or --channel NAME" in ran.err
    assert not out.exists()
