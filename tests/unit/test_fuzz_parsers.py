"""Random bytes into every file a detector parses: a warning at worst, never an exception."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors import infer
from detectors.text import ParseError, load_json, load_toml, load_yaml

PARSED_FILES = [
    "package.json", ".nvmrc", ".node-version", "pnpm-lock.yaml", "yarn.lock", ".yarnrc.yml",
    "package-lock.json", "pnpm-workspace.yaml", "deno.json", ".bun-version",
    ".python-version", "runtime.txt", "Pipfile", "pyproject.toml", "poetry.lock",
    "requirements.txt", "environment.yml", "rust-toolchain.toml", "rust-toolchain",
    "Cargo.toml", "Cargo.lock", "go.mod", "go.work", ".go-version", ".zig-version",
    "build.zig.zon", ".ruby-version", "Gemfile", "Gemfile.lock", "composer.json",
    ".php-version", "pom.xml", "build.gradle.kts", ".sdkmanrc", ".java-version", "mix.exs",
    ".elixir-version", "global.json", "App.csproj", "Package.swift", ".tool-versions",
    "mise.toml", "devbox.json", "nixpacks.toml", ".devcontainer.json", "Dockerfile",
    "compose.yaml", "prisma/schema.prisma", "config/database.yml", ".env.example",
    "flake.nix", ".github/workflows/ci.yml", "Makefile", "justfile",
]

# Inputs that look like the real thing, so the fuzzer gets past the first byte.
PREFIXES = ["", "{", "[tools]\n", "services:\n  db:\n    image: ", "FROM ", "go ", "lockfileVersion: ",
            "GEM\n  specs:\n    ", "<project><properties>", "datasource db {", "# yarn lockfile v1\n",
            '{"scripts": {', ".PHONY: ", "[project.scripts]\n"]


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="zagi-fuzz-"))
    yield d
    shutil.rmtree(d)


@pytest.mark.parametrize("name", PARSED_FILES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(PREFIXES), body=st.one_of(st.binary(max_size=300),
                                                        st.text(max_size=300).map(str.encode)))
def test_random_content_never_crashes(scratch: Path, name: str, prefix: str, body: bytes) -> None:
    path = scratch / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(prefix.encode() + body)
    if name == "manage.py" or name.endswith("settings.py"):
        (scratch / "manage.py").write_text("")
    report = infer(scratch)
    internal = [w for w in report.warnings if "internal error" in w]
    assert not internal, internal
    path.unlink()


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_text_parsers_raise_only_parse_error(text: str) -> None:
    for parse in (load_json, load_toml, load_yaml, lambda t: load_json(t, jsonc=True)):
        try:
            parse(text)
        except ParseError as err:
            assert err.line is None or err.line >= 1


def test_yaml_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    with pytest.raises(ParseError, match="too large"):
        load_yaml(bomb)


def test_deep_nesting_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        load_json("[" * 100_000)
    with pytest.raises(ParseError):
        load_json("[" * 100_000, jsonc=True)


def test_jsonc_keeps_strings_intact() -> None:
    """Comments and trailing commas go; a string holding "a,]" or "//" stays as written."""
    got = load_json('{"a": "a,]", "url": "http://x//y", /* c */ "b": [1, 2,], // end\n}',
                    jsonc=True)
    assert got == {"a": "a,]", "url": "http://x//y", "b": [1, 2]}
