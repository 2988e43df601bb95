"""`zagi catalog` against the catalog shipped in the package (no ZAGI_NIXPKGS)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import REPO, run_zagi

FACTS = REPO / "nixgen" / "data" / "catalog-facts.toml"


def shipped_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "ZAGI_NIXPKGS"}


def test_search_shows_versions_with_revision_and_date_newest_first() -> None:
    ran = run_zagi("catalog", "search", "node", env=shipped_env())
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].split() == ["25.8.1", "nodejs_25", "09061f748ee2", "2026-03-21"]
    assert [ln.split()[0] for ln in lines] == ["25.8.1", "19.8.1", "18.20.8", "18.19.1", "16.20.2"]
    data = json.loads(run_zagi("catalog", "search", "postgres", "--json", env=shipped_env()).out)
    first = data["versions"][0]
    assert (first["version"], first["date"]) == ("15.5", "2024-02-22T01:07:56Z")
    assert first["source"].startswith("jetify-com/devbox:")


def test_search_explains_a_library_without_version_facts() -> None:
    ran = run_zagi("catalog", "search", "vips", env=shipped_env())
    assert ran.code == 2
    assert "records no versions of it yet" in ran.err and "'vips'" in ran.err


def test_update_from_facts_reproduces_the_shipped_catalog(tmp_path: Path) -> None:
    out = tmp_path / "catalog.json"
    ran = run_zagi("catalog", "update", "--facts", str(FACTS), "--out", str(out), "--json",
                   env=shipped_env())
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["entries"] > 40
    assert out.read_bytes() == (REPO / "nixgen" / "data" / "catalog.json").read_bytes()


def test_update_needs_exactly_one_source(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    for args in ([], ["--facts", str(FACTS), "--nixpkgs", str(tmp_path)]):
        ran = run_zagi("catalog", "update", *args, "--out", str(out), env=shipped_env())
        assert ran.code == 2 and "give either --nixpkgs CHECKOUT... or --facts FILE" in ran.err
    assert not out.exists()
