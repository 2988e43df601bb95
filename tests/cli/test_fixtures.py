"""One test per fixtures/repos/* folder: `zagi init --dry-run --json` gives what expected.json says."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Ran
from tests.matching import mismatches
from zagi.formats import spec
from zagi.project import init

CASES = sorted(p for p in FIXTURES.iterdir() if (p / "expected.json").exists())


def test_there_are_enough_fixtures() -> None:
    assert len(CASES) >= 40
    for case in CASES:
        readme = (case / "README.md").read_text().strip()
        assert readme, f"{case.name}: README.md must say what the case proves"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Path, zagi: Callable[..., Ran]) -> None:
    ran = zagi("init", "--dry-run", "--json", str(case))
    assert ran.code == 0, ran.err
    report = ran.json()
    assert not [w for w in report["warnings"] if "internal error" in w]
    problems = mismatches(json.loads((case / "expected.json").read_text()), report)
    assert not problems, "\n".join(problems) + "\n\nfull output:\n" + ran.out
    assert not (case / ".zagi").exists(), "--dry-run must write nothing"
    # The env.toml init would write must load through the full spec, values included.
    text = zagi("init", "--dry-run", str(case)).out
    loaded = spec.parse_text(text, f"{case.name}/.zagi/env.toml")
    bundled = init.bundled_with()
    for name, tool in report["tools"].items():
        if tool["version"] is None and name in bundled:
            assert name not in loaded.tools  # the runtime's own copy, not "latest"
            assert f"# {name}: bundled with {bundled[name]}" in text
        else:
            assert loaded.tool_version(name) == (tool["version"] or "latest")
    assert sorted(loaded.services) == sorted(report["services"])
    assert sorted(loaded.system.packages) == sorted(report["system"]["packages"])


def test_init_writes_the_schema_version_spec_reads() -> None:
    assert init.SCHEMA_VERSION == spec.SCHEMA_VERSION


# The one fixture the harvested facts cannot serve: Binder's runtime.txt asks for R 4.3,
# and no lock file recorded R 4.3 (the catalog has 4.4.1 and 4.5.2, and nixpkgs names no
# R line attribute). It must fail the way a user can act on: exit 2 listing what exists.
UNSERVED = {"r-binder": "r '4.3': no version in the catalog matches; available: 4.4.1, 4.5.2"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_init_output_resolves_on_the_shipped_catalog(case: Path) -> None:
    from nixgen import catalog
    from zagi.core.errors import BadInput
    from zagi.env.lock import resolve_all

    shipped = catalog.parse((Path(catalog.__file__).parent / "data" / "catalog.json").read_text(),
                            "catalog.json", None)
    loaded = spec.parse_text(init.run(case, dry_run=True).text, f"{case.name}/env.toml")
    if case.name in UNSERVED:
        with pytest.raises(BadInput) as err:
            resolve_all(loaded, shipped)
        assert UNSERVED[case.name] in str(err.value) and err.value.exit_code == 2
        return
    for name, (_, choice) in resolve_all(loaded, shipped).items():
        assert choice.attr, name
