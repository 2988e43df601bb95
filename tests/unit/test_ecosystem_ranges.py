"""Each ecosystem's version ranges keep their own meaning when they become zagi requests
(npm by node-semver, PEP 440 by packaging), and pre-releases are never picked by a
request that does not name one."""

from __future__ import annotations

import pytest

from detectors.common import npm_range, pep440
from zagi.core.versions import allows, parse_request

RELEASES = ["18.19.1", "19.8.1", "20.12.2", "21.7.3", "22.2.0"]


def newest(request: str, versions: list[str]) -> str | None:
    req = parse_request(request)
    ok = [v for v in versions if allows(req, v)]
    return max(ok, key=lambda v: tuple(int(x) for x in v.split(".")[:3] if x.isdigit()),
               default=None)


@pytest.mark.parametrize(("npm", "picks"), [
    ("18 - 20", "20.12.2"),          # a hyphen range's upper bound is an X-range: <21
    ("<=20", "20.12.2"),             # npm's <=20 is <21, not <=20.0.0
    (">=18 <21", "20.12.2"),
    ("^18 || ^20", "20.12.2"),       # the newest alternative
    ("~18.19", "18.19.1"),
    (">=18", "22.2.0"),
    ("20.x", "20.12.2"),
])
def test_npm_ranges_mean_what_npm_means(npm: str, picks: str) -> None:
    converted = npm_range(npm)
    assert converted is not None
    assert newest(converted[0], RELEASES) == picks


@pytest.mark.parametrize(("spec", "allowed", "refused"), [
    (">=3.13", ["3.13.0", "3.14.1"], ["3.13.0rc1", "3.12.8"]),   # no pre-releases
    ("==3.12", ["3.12.0"], ["3.12.1", "3.13.0"]),                  # PEP 440: 3.12.0 exactly
    ("==3.12.*", ["3.12.0", "3.12.7"], ["3.13.0"]),
    (">=2.0,!=2.1", ["2.0.3", "2.1.5", "2.2.0"], ["2.1.0"]),       # != excludes 2.1.0 only
    ("~=3.11", ["3.11.0", "3.12.4"], ["4.0.0", "3.10.9"]),
    ("===3.11.4", ["3.11.4"], ["3.11.5"]),
])
def test_pep440_specifiers_mean_what_pep_440_means(spec: str, allowed: list[str],
                                                   refused: list[str]) -> None:
    converted = pep440(spec)
    assert converted is not None, spec
    req = parse_request(converted[0])
    assert [v for v in allowed if not allows(req, v)] == []
    assert [v for v in refused if allows(req, v)] == []


def test_a_request_naming_a_prerelease_may_pick_one() -> None:
    assert allows(parse_request("3.14.0rc1"), "3.14.0rc1")
    assert not allows(parse_request("3.14"), "3.14.0rc1")


def test_what_is_not_a_range_is_none() -> None:
    assert npm_range("lts/*") is None and npm_range("") is None
    assert pep440("not a specifier") is None
