"""The shipped catalog and the recorded facts it is built from (no Nix, no network)."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nixgen import catalog
from nixgen.resolve import resolve
from zagi.core.errors import BadInput

DATA = Path(catalog.__file__).parent / "data"
FACTS = DATA / "catalog-facts.toml"


def shipped() -> catalog.Catalog:
    return catalog.parse((DATA / "catalog.json").read_text(), "catalog.json", None)


def test_shipped_catalog_is_exactly_what_the_facts_build() -> None:
    built = catalog.build_from_facts(FACTS.read_text(), str(FACTS))
    assert json.loads((DATA / "catalog.json").read_text()) == built, (
        "nixgen/data/catalog.json is stale: run zagi catalog update --facts "
        "nixgen/data/catalog-facts.toml --out nixgen/data/catalog.json")


def test_every_revision_is_a_dated_fetchable_commit_and_every_entry_cites_its_source() -> None:
    cat = shipped()
    assert len(cat.revisions) >= 10
    for r in cat.revisions.values():
        assert r.rev and re.fullmatch(r"[0-9a-f]{40}", r.rev) and r.id == r.rev[:12]
        assert r.url == f"https://github.com/NixOS/nixpkgs/archive/{r.rev}.tar.gz"
        assert r.date and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.date)
    dates = [r.date for r in sorted(cat.revisions.values(), key=lambda r: r.order)]
    assert dates == sorted(dates), "revisions must be listed oldest first"
    for entries in cat.packages.values():
        for e in entries:
            assert e.source and re.fullmatch(r"[\w.-]+/[\w.-]+:\S+@[0-9a-f]{40}", e.source)


def test_shipped_catalog_covers_the_common_runtimes_and_services() -> None:
    have = set(shipped().packages)
    assert {"node", "python", "go", "ruby", "php", "java", "zig", "bun", "elixir", "dotnet",
            "postgres", "mysql", "mariadb", "redis", "valkey", "openssl", "pkg-config",
            "sqlite"} <= have


@pytest.mark.parametrize(("name", "request_", "version", "rev"), [
    ("node", "18", "18.20.8", "ebe4301cbd8f"),
    ("node", "18.19", "18.19.1", "085589047343"),
    ("redis", "7", "7.2.4", "10b813040df6"),
    ("node", "latest", "25.8.1", "09061f748ee2"),
    ("node", ">=16,<17", "16.20.2", "a71323f68d43"),
    ("java", "17", "17.0.17+8", "01b6809f7f9d"),
    ("postgres", "14", "14.9", "2de1be5b51c3"),
    ("python", "~3.12", "3.12.1", "10b813040df6"),
    ("ruby", "3.1.4", "3.1.4", "10b813040df6"),  # same version in two revisions: the newer
])
def test_requests_resolve_against_the_shipped_catalog(name: str, request_: str, version: str,
                                                     rev: str) -> None:
    c = resolve(shipped(), name, request_)
    assert (c.version, c.rev) == (version, rev)


def test_a_missing_version_lists_what_the_catalog_has() -> None:
    listed = r"available: 16\.20\.2, 18\.19\.1, 18\.20\.8, 19\.8\.1, 25\.8\.1"
    with pytest.raises(BadInput, match=r"node '21'.*" + listed):
        resolve(shipped(), "node", "21")


def test_pins_accept_a_full_commit_or_a_unique_prefix() -> None:
    cat = shipped()
    full = cat.revisions["085589047343"].rev
    assert full is not None
    for pin in (full, full[:7], "085589047343"):
        assert resolve(cat, "node", "18", rev=pin).version == "18.19.1"  # not 18.20.8
    with pytest.raises(BadInput, match=r"revision 'deadbeef' is not in the catalog.*newest known"):
        resolve(cat, "node", "18", rev="deadbeef")


def test_a_library_without_version_facts_resolves_when_no_version_is_asked() -> None:
    cat = shipped()
    c = resolve(cat, "vips", "latest")
    newest = max(cat.revisions.values(), key=lambda r: r.order).id
    assert (c.attr, c.version, c.rev) == ("vips", None, newest)  # lock reads the version
    with pytest.raises(BadInput, match='records no versions of vips, so ask for "latest"'):
        resolve(cat, "vips", "8.15")
    with pytest.raises(BadInput, match="not in the version catalog"):
        resolve(cat, "no-such-thing", "latest")


GOOD = ('[[fact]]\nattr = "redis"\nversion = "7.2.4"\nrev = "' + "a" * 40 + '"\n'
        'date = "2024-02-10T18:15:24Z"\nsource = "o/r:devbox.lock@' + "b" * 40 + '"\n'
        'out = "/nix/store/vynr8ih2mb0by4rzhwx323j05ka570v7-redis-7.2.4"\n')


def test_a_good_fact_builds_one_revision_and_serves_every_name_of_its_attribute() -> None:
    doc = catalog.build_from_facts(GOOD + "\n" + GOOD.replace('"redis"', '"postgresql"', 1)
                                   .replace("7.2.4", "15.5").replace("redis-", "postgresql-"),
                                   "f.toml")
    assert [r["id"] for r in doc["revisions"]] == ["a" * 12]
    assert set(doc["packages"]) == {"redis", "postgres", "postgresql"}


@pytest.mark.parametrize(("edit", "message"), [
    (("7.2.4\"\nrev", "7.2.5\"\nrev"), "version '7.2.5' disagrees with the output path"),
    (('"redis"', '"redis-unknown"'), "attribute 'redis-unknown' serves no zagi name"),
    (('rev = "a', 'rev = "z'), "is not a 40-hex-digit nixpkgs commit"),
    (("2024-02-10T18:15:24Z", "2024-02-10"), "is not UTC ISO 8601"),
    (('source = ', 'sauce = '), "missing or non-string 'source'"),
    (("out = ", "colour = \"red\"\nout = "), "unknown key(s) colour"),
])
def test_bad_facts_are_refused_with_file_and_line(edit: tuple[str, str], message: str) -> None:
    text = "# header\n\n" + GOOD.replace(*edit)
    with pytest.raises(BadInput) as err:
        catalog.build_from_facts(text, "facts.toml")
    assert str(err.value).startswith("facts.toml:3: fact 1: ")
    assert message in str(err.value)


def test_conflicting_facts_are_refused() -> None:
    other = GOOD.replace("7.2.4", "7.2.5")
    with pytest.raises(BadInput, match=r"facts.toml:9: fact 2: redis at a{12} is already "
                                       r"recorded as 7\.2\.4, not 7\.2\.5"):
        catalog.build_from_facts(GOOD + "\n" + other, "facts.toml")
    redated = GOOD.replace("2024-02-10T18:15:24Z", "2024-03-01T00:00:00Z").replace(
        '"redis"', '"valkey"').replace("redis-7", "valkey-7")
    with pytest.raises(BadInput, match="was dated 2024-02-10T18:15:24Z by an earlier fact"):
        catalog.build_from_facts(GOOD + "\n" + redated, "facts.toml")


def test_update_from_facts_writes_nothing_when_a_fact_is_bad(tmp_path: Path) -> None:
    facts, out = tmp_path / "facts.toml", tmp_path / "catalog.json"
    out.write_text("previous\n")
    facts.write_text(GOOD.replace("7.2.4\"\nrev", "9\"\nrev"))
    with pytest.raises(BadInput):
        catalog.update_from_facts(facts, out)
    assert out.read_text() == "previous\n"
    facts.write_text(GOOD)
    assert set(catalog.update_from_facts(facts, out).packages) == {"redis"}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_facts_parser_only_ever_raises_bad_input(text: str) -> None:
    with contextlib.suppress(BadInput):
        catalog.build_from_facts(text, "fuzz.toml")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["attr", "version", "rev", "date", "source", "out", "x"]),
                       st.one_of(st.text(max_size=50), st.integers(), st.booleans()), max_size=7))
def test_any_fact_table_is_accepted_or_refused_cleanly(fact: dict[str, object]) -> None:
    import tomlkit

    doc = tomlkit.document()
    aot = tomlkit.aot()
    aot.append(tomlkit.item(fact))
    doc["fact"] = aot
    with contextlib.suppress(BadInput):
        catalog.build_from_facts(tomlkit.dumps(doc), "fuzz.toml")


def test_fact_must_be_an_array_of_tables() -> None:
    with pytest.raises(BadInput, match=r"`fact` must be an array of tables"):
        catalog.build_from_facts("fact = 3\n", "f.toml")
