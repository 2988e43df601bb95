"""Resolution of requests against a catalog (a small in-memory catalog, no Nix)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nixgen.catalog import Catalog, Entry, Revision
from nixgen.resolve import escape_hatch, resolve
from zagi.core.errors import BadInput
from zagi.core.versions import allows, parse_request


def cat() -> Catalog:
    revs = {"old": Revision("old", 0), "new": Revision("new", 1)}
    node = [Entry("node", v, a, r) for v, a, r in (
        ("18.19.1", "nodejs_18", "old"), ("20.11.1", "nodejs_20", "old"),
        ("20.12.2", "nodejs", "new"), ("20.12.2", "nodejs_20", "new"), ("22.2.0", "nodejs_22", "new"),
        ("23.1.0", "nodejs_23", "new"))]
    py = [Entry("python", v, a, "new") for v, a in (("3.11.9", "python311"), ("3.12.4", "python312"),
                                                    ("3.13.0", "python313"))]
    return Catalog(revs, {"node": node, "python": py}, lts={"node": {"18": "2025-04-30", "20": "2026-04-30",
                                                    "22": "2027-04-30"}})


@pytest.mark.parametrize(("request_", "version", "attr", "rev"), [
    ("20", "20.12.2", "nodejs_20", "new"),           # newest 20.x; specific attr wins the tie
    ("20.11", "20.11.1", "nodejs_20", "old"),
    (">=18,<21", "20.12.2", "nodejs_20", "new"),
    ("^18", "18.19.1", "nodejs_18", "old"),
    ("lts", "22.2.0", "nodejs_22", "new"),            # 23 is newer but not LTS
    ("latest", "23.1.0", "nodejs_23", "new"),
    ("~20.11.0", "20.11.1", "nodejs_20", "old"),
])
def test_resolve(request_: str, version: str, attr: str, rev: str) -> None:
    c = resolve(cat(), "node", request_)
    assert (c.version, c.attr, c.rev) == (version, attr, rev)


def dated(newest: str) -> Catalog:
    c = cat()
    revs = {"old": Revision("old", 0, date="2024-01-01T00:00:00Z"),
            "new": Revision("new", 1, date=newest)}
    return Catalog(revs, c.packages, lts=c.lts)


@pytest.mark.parametrize(("newest", "version"), [
    ("2025-01-01T00:00:00Z", "22.2.0"),   # 18, 20, 22 maintained: the newest of them
    ("2027-06-01T00:00:00Z", None),       # every LTS line past its end of life
])
def test_lts_means_a_line_maintained_on_the_catalogs_newest_date(newest: str,
                                                                 version: str | None) -> None:
    if version:
        assert resolve(dated(newest), "node", "lts").version == version
    else:
        with pytest.raises(BadInput, match=r"no version on a maintained LTS line.*2027-06-01"):
            resolve(dated(newest), "node", "lts")


def test_lts_skips_lines_past_their_end_of_life() -> None:
    c = dated("2027-01-01T00:00:00Z")
    c.packages["node"] = [e for e in c.packages["node"] if e.version != "22.2.0"]
    # 18 and 20 are past their end of life on 2027-01-01, 22 has no entry: nothing left
    with pytest.raises(BadInput, match="maintained LTS line"):
        resolve(c, "node", "lts")
    c.packages["node"].append(Entry("node", "22.3.0", "nodejs_22", "old"))
    assert resolve(c, "node", "lts").version == "22.3.0"


@pytest.mark.parametrize(("pin", "version"), [
    ("20.11.4", "20.11.1"),   # the only 20.11.x
    ("20.12.0", "20.12.2"),
])
def test_an_exact_pin_the_catalog_lacks_takes_the_nearest_of_its_minor_and_says_so(
        pin: str, version: str) -> None:
    c = resolve(cat(), "node", pin)
    assert c.version == version
    assert c.note and pin in c.note and version in c.note


def test_an_exact_pin_without_its_minor_exits_2_naming_the_nearest() -> None:
    with pytest.raises(BadInput) as info:
        resolve(cat(), "node", "20.13.1")
    assert info.value.exit_code == 2
    assert "no 20.13.x" in str(info.value) and "20.12.2" in str(info.value)


def test_pinned_revision_limits_the_choice() -> None:
    assert resolve(cat(), "node", "20", rev="old").version == "20.11.1"
    with pytest.raises(BadInput, match=r"no version in the catalog matches.*in revision old"):
        resolve(cat(), "node", "22", rev="old")


@pytest.mark.parametrize(("name", "request_", "words"), [
    ("node", "21", ["node '21'", "available: 18.19.1, 20.11.1, 20.12.2, 22.2.0, 23.1.0"]),
    ("python", "3.14.1", ["no 3.14.x", "nearest: 3.11.9, 3.12.4, 3.13.0"]),
    ("python", "lts", ["no LTS releases"]),
    ("nodee", "20", ['did you mean "node"', 'attr = "<nixpkgs attribute>"']),
    ("node", "nightly", ["no nightly builds"]),
])
def test_errors_list_what_exists(name: str, request_: str, words: list[str]) -> None:
    with pytest.raises(BadInput) as info:
        resolve(cat(), name, request_)
    assert info.value.exit_code == 2
    said = f"{info.value} {info.value.hint or ''}"
    for w in words:
        assert w in said


def test_escape_hatch_takes_the_attribute_as_given() -> None:
    c = escape_hatch(cat(), "foo", "foo_2", None)
    assert (c.attr, c.rev, c.version) == ("foo_2", "new", None)
    with pytest.raises(BadInput, match="not in the catalog"):
        escape_hatch(cat(), "foo", "foo_2", "nope")


@given(st.sampled_from(["18", "20", ">=19", "<21", "^20.11", "~=20.11", "!=20.12.2", "20.x"]),
       st.lists(st.integers(0, 30), min_size=1, max_size=3))
def test_allows_agrees_with_may_agree_on_concrete_versions(req: str, parts: list[int]) -> None:
    from zagi.core.versions import may_agree

    version = ".".join(map(str, parts))
    if allows(parse_request(req), version) and "!=" not in req:
        assert may_agree(req, version + ".0" * (3 - len(parts)))
