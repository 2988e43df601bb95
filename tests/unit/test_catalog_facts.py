"""The shipped catalog and the harvested facts it is built from (no Nix, no network)."""

from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.base import data
from nixgen import catalog, facts
from nixgen.resolve import resolve
from zagi.core.errors import BadInput

DATA = Path(catalog.__file__).parent / "data"
FACTS = Path(catalog.__file__).parent / "facts" / "facts.jsonl"


def shipped() -> catalog.Catalog:
    return catalog.parse((DATA / "catalog.json").read_text(), "catalog.json", None)


def build(*paths: Path) -> dict[str, Any]:
    return facts.build(list(paths), catalog.names_of_attrs())[0]


def test_shipped_catalog_is_exactly_what_the_facts_build() -> None:
    assert (DATA / "catalog.json").read_text() == facts.dump(build(FACTS)), (
        "nixgen/data/catalog.json is stale: run zagi catalog update --facts "
        "nixgen/facts/facts.jsonl --out nixgen/data/catalog.json")


def test_shipped_catalog_is_small_and_quick_to_load() -> None:
    size = (DATA / "catalog.json").stat().st_size
    assert size <= 2 * 1024 * 1024, f"{size} bytes ships in every wheel"
    text = (DATA / "catalog.json").read_text()
    best = min(_timed(lambda: catalog.parse(text, "c", None)) for _ in range(5))
    # generous: bench/catalog.py measures it against `zagi lock`; this catches a 10x slip
    assert best < 0.2, f"parse took {best * 1000:.0f} ms"


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_every_revision_is_a_dated_fetchable_commit_and_every_entry_cites_its_source() -> None:
    cat = shipped()
    assert len(cat.revisions) >= 100
    for r in cat.revisions.values():
        assert r.rev and re.fullmatch(r"[0-9a-f]{40}", r.rev) and r.id == r.rev[:12]
        assert r.url == f"https://github.com/NixOS/nixpkgs/archive/{r.rev}.tar.gz"
        assert r.date and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.date)
    dates = [r.date for r in sorted(cat.revisions.values(), key=lambda r: r.order)]
    assert dates == sorted(dates), "revisions must be listed oldest first"
    harvested = {(f["commit"][:12], f["attr"]): f for f in map(json.loads, FACTS.open())}
    for entries in cat.packages.values():
        for e in entries:
            fact = harvested[(e.rev, e.attr)]  # every entry is a harvested fact ...
            assert e.source in fact["sources"] and fact["version"] == e.version  # ... cited
            for system, outs in e.outputs.items():
                assert set(outs.items()) <= set(fact["outputs"][system].items())


# What users ask for (issue 13): every one resolves on the shipped catalog, to a version
# on the line asked for, with x86_64-linux store paths wherever the facts have them.
REQUESTS = [
    *[("node", v) for v in ("18", "20", "22", "24", "lts")],
    *[("python", f"3.{m}") for m in range(9, 15)],
    *[("go", f"1.{m}") for m in range(21, 26)],
    *[("rust", v) for v in ("1.77", "1.80", "1.86", "1.92", "1.95")],
    *[("ruby", f"3.{m}") for m in range(1, 5)],
    *[("php", f"8.{m}") for m in range(1, 5)],
    *[("java", v) for v in ("11", "17", "21", "lts")],
    *[("postgres", v) for v in ("14", "15", "16", "17")],
    ("redis", "7"), ("mysql", "8.0"), ("mysql", "8.4"),
    ("pnpm", "8"), ("pnpm", "9"), ("pnpm", "10"), ("yarn", "1"), ("yarn", "4"),
    ("bun", "latest"), ("deno", "latest"), ("uv", "latest"), ("poetry", "latest"),
    ("dotnet", "8"), ("dotnet", "lts"),
]


@pytest.mark.parametrize(("name", "request_"), REQUESTS)
def test_what_users_ask_for_resolves_on_the_shipped_catalog(name: str, request_: str) -> None:
    c = resolve(shipped(), name, request_)
    assert c.version is not None
    if request_[0].isdigit():
        assert facts.on_line(c.version, request_)
    assert c.note is None


@pytest.mark.parametrize(("name", "request_", "line"), [
    ("node", "lts", "24"),    # 18 and 20 are past their end of life on the newest date
    ("dotnet", "lts", "10"),  # 6 is past its end of life, 10 is the newest LTS
    ("java", "lts", "25"),
])
def test_lts_is_the_newest_maintained_line(name: str, request_: str, line: str) -> None:
    assert facts.on_line(str(resolve(shipped(), name, request_).version), line)


@pytest.mark.parametrize("name", sorted(data("defaults")["tools"]))
def test_every_default_init_writes_resolves(name: str) -> None:
    version = data("defaults")["tools"][name] or "latest"
    if name in data("defaults")["bundled"]:
        return  # written only as a comment (see defaults.toml [bundled])
    resolve(shipped(), name, version)


def test_choices_carry_store_paths_per_system() -> None:
    c = resolve(shipped(), "postgres", "16")
    outs = c.outputs["x86_64-linux"]
    assert {"out", "lib", "dev"} <= set(outs)
    assert all(p.startswith("/nix/store/") and f"-{c.version}" in p for p in outs.values())


def test_a_pin_the_catalog_lacks_takes_the_nearest_of_its_minor() -> None:
    c = resolve(shipped(), "node", "20.11.2")
    assert c.version == "20.11.1"
    assert c.note == ("node 20.11.2 is not in the catalog; using 20.11.1, the nearest "
                      "20.11.x it has")


def test_a_library_without_version_facts_resolves_when_no_version_is_asked() -> None:
    cat = shipped()
    c = resolve(cat, "vips", "latest")
    newest = max(cat.revisions.values(), key=lambda r: r.order).id
    assert (c.attr, c.version, c.rev) == ("vips", None, newest)  # lock reads the version
    asked = resolve(cat, "vips", "8.15")  # the harvest is partial: nixpkgs may have it
    assert (asked.attr, asked.version) == ("vips", None) and asked.note
    with pytest.raises(BadInput, match="not in the version catalog"):
        resolve(cat, "no-such-thing", "latest")


@pytest.mark.parametrize(("attr", "line"), [
    ("nodejs_20", "20"), ("nodejs-19_x", "19"), ("python312", "3.12"), ("python311Full", "3.11"),
    ("go_1_23", "1.23"), ("ruby_3_3", "3.3"), ("php83", "8.3"), ("jdk17", "17"),
    ("pnpm_9", "9"), ("zig_0_13", "0.13"), ("mysql80", "8.0"), ("mariadb_1011", "10.11"),
    ("mariadb_110", "11.0"), ("dotnet-sdk_8", "8"), ("postgresql_16", "16"),
    ("nodejs", None), ("php83Packages.composer", None), ("temurin-bin-21", None),
])
def test_attributes_that_name_a_line(attr: str, line: str | None) -> None:
    assert facts.attr_line(attr) == line


def fact(**over: Any) -> dict[str, Any]:
    base = {"commit": "a" * 40, "date": "2024-02-10T18:15:24Z", "attr": "redis",
            "version": "7.2.4",
            "outputs": {"x86_64-linux": {"out": "/nix/store/" + "v" * 32 + "-redis-7.2.4",
                                         "debug": "/nix/store/" + "d" * 32 + "-redis-7.2.4-debug"}},
            "lock_kinds": ["devbox"], "sources": ["o/r:devbox.lock@" + "b" * 40]}
    return {**base, **over}


def write(path: Path, *lines: dict[str, Any] | str) -> Path:
    path.write_text("".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n"
                            for ln in lines))
    return path


def test_a_fact_serves_every_name_of_its_attribute_and_keeps_usable_outputs(tmp_path: Path) -> None:
    pg = fact(attr="postgresql", version="15.5", outputs={"x86_64-linux": {
        "out": "/nix/store/" + "p" * 32 + "-postgresql-15.5"}})
    doc = build(write(tmp_path / "f.jsonl", fact(), pg))
    assert [r["id"] for r in doc["revisions"]] == ["a" * 12]
    assert set(doc["packages"]) == {"redis", "postgres", "postgresql"}
    # placed by version: the generic attribute at 15.5 serves postgres 15
    assert doc["packages"]["postgres"][0]["version"] == "15.5"
    assert doc["packages"]["redis"][0]["outputs"] == {  # debug is never installed: dropped
        "x86_64-linux": {"out": "/nix/store/" + "v" * 32 + "-redis-7.2.4"}}


def test_unmapped_attributes_are_skipped_and_counted(tmp_path: Path) -> None:
    _, report = facts.build([write(tmp_path / "f.jsonl", fact(attr="cowsay", version="3.7.0",
                                                              outputs={}))],
                            catalog.names_of_attrs())
    assert report.skipped == {"cowsay": 1} and report.entries == 0


def test_per_version_the_newest_commit_and_a_few_alternates_are_kept(tmp_path: Path) -> None:
    lines = [fact(commit=f"{i:x}" * 40, date=f"2024-0{i}-01T00:00:00Z",
                  outputs={} if i == 1 else fact()["outputs"]) for i in range(1, 7)]
    doc = build(write(tmp_path / "f.jsonl", *lines))
    kept = [e["rev"] for e in doc["packages"]["redis"]]
    assert len(kept) == 1 + facts.ALTERNATES
    assert "6" * 12 in kept and "1" * 12 not in kept  # newest kept; the one without paths not


@pytest.mark.parametrize(("over", "message"), [
    ({"version": "7.2.5"}, "does not end in -7.2.5"),
    ({"attr": "nodejs_20", "version": "18.1.0", "outputs": {}},
     "attribute nodejs_20 names line 20 but carries 18.1.0"),
    ({"commit": "z" * 40}, "is not a 40-hex-digit nixpkgs commit"),
    ({"date": "2024-02-10"}, "is not UTC ISO 8601"),
    ({"sources": []}, "no `sources`"),
    ({"version": 7}, "missing or non-string 'version'"),
])
def test_bad_facts_are_refused_with_file_and_line(tmp_path: Path, over: dict[str, Any],
                                                  message: str) -> None:
    path = write(tmp_path / "facts.jsonl", fact(attr="valkey", version="7.2.5",
                                                outputs={}, commit="c" * 40), fact(**over))
    with pytest.raises(BadInput) as err:
        build(path)
    assert str(err.value).startswith(f"{path}:2: ")
    assert message in str(err.value)


def test_contradicting_facts_are_refused_naming_both_lines(tmp_path: Path) -> None:
    one = write(tmp_path / "one.jsonl", fact())
    two = write(tmp_path / "two.jsonl", "", fact(version="7.2.5", outputs={}))
    with pytest.raises(BadInput, match=rf"{two}:2: redis at a{{12}} is 7\.2\.5, but {one}:1 "
                                       r"says 7\.2\.4"):
        build(one, two)
    redated = write(tmp_path / "three.jsonl", fact(attr="valkey", date="2024-03-01T00:00:00Z",
                                                   outputs={}))
    with pytest.raises(BadInput, match=r"three.jsonl:1: commit a{12} is dated 2024-03-01"):
        build(one, redated)


def test_update_from_facts_writes_nothing_when_a_fact_is_bad(tmp_path: Path) -> None:
    path, out = tmp_path / "facts.jsonl", tmp_path / "catalog.json"
    out.write_text("previous\n")
    write(path, fact(version="9"))
    with pytest.raises(BadInput):
        catalog.update_from_facts([path], out)
    assert out.read_text() == "previous\n"
    write(path, fact())
    assert set(catalog.update_from_facts([path], out)[0].packages) == {"redis"}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_facts_reader_only_ever_raises_bad_input(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.jsonl"
        path.write_text(text)
        with contextlib.suppress(BadInput):
            build(path)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["commit", "date", "attr", "version", "outputs",
                                        "sources", "system_versions"]),
                       st.one_of(st.text(max_size=50), st.integers(), st.booleans(),
                                 st.dictionaries(st.text(max_size=8), st.text(max_size=8)),
                                 st.lists(st.text(max_size=20))), max_size=7))
def test_any_fact_object_is_accepted_or_refused_cleanly(raw: dict[str, object]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "fuzz.jsonl", {**fact(), **raw})
        with contextlib.suppress(BadInput):
            build(path)


@pytest.mark.parametrize(("name", "request_", "attr"), [
    ("erlang", "26", "erlang_26"),        # no erlang fact at all: the attribute naming 26
    ("erlang", "26.2.1", "erlang_26"),
    ("zig", "0.15.1", "zig_0_15"),        # zig facts, none on 0.15: its line attribute
    ("swift", ">=5.9", "swift"),          # no fact, no line attribute: the generic one
])
def test_requests_no_fact_answers_go_by_attribute_and_are_checked_at_lock(
        name: str, request_: str, attr: str) -> None:
    c = resolve(shipped(), name, request_)
    assert (c.attr, c.version) == (attr, None)
    assert c.note and "zagi lock" in c.note


def test_a_line_with_facts_never_falls_back_to_its_attribute() -> None:
    with pytest.raises(BadInput, match=r"no 20\.99\.x; nearest: .*20\.20\.2"):
        resolve(shipped(), "node", "20.99.1")


@pytest.mark.parametrize(("request_", "version", "outcome"), [
    ("26", "26.2.5", None),
    ("26.2.1", "26.2.5", "using 26.2.5, of the same minor"),
    (">=5.9", "5.10.1", None),
    ("26", "27.0", "exit 2"),
    (">=5.9", "5.8", "exit 2"),
])
def test_a_version_read_at_lock_is_held_to_the_request(request_: str, version: str,
                                                        outcome: str | None) -> None:
    from nixgen.resolve import checked

    if outcome == "exit 2":
        with pytest.raises(BadInput, match="does not meet the request"):
            checked("erlang", request_, version)
    elif outcome is None:
        assert checked("erlang", request_, version) is None
    else:
        assert outcome in str(checked("erlang", request_, version))
