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
    return Catalog(revs, {"node": node, "python": py}, lts={"node": ["18", "20", "22"]})


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


def test_pinned_revision_limits_the_choice() -> None:
    assert resolve(cat(), "node", "20", rev="old").version == "20.11.1"
    with pytest.raises(BadInput, match=r"no version in the catalog matches.*in revision old"):
        resolve(cat(), "node", "22", rev="old")


@pytest.mark.parametrize(("name", "request_", "words"), [
    ("node", "21", ["node '21'", "available: 18.19.1, 20.11.1, 20.12.2, 22.2.0, 23.1.0"]),
    ("python", "3.12.1", ["3.12.4"]),                  # exact: no silent 3.12.4
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
