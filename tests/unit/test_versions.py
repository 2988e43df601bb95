from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zagi.core.versions import RequestError, may_agree, parse_request, satisfiable


@pytest.mark.parametrize(("text", "kind", "norm"), [
    ("20", "version", "20"), ("v20.11.1", "version", "20.11.1"), ("18.x", "version", "18"),
    ("3.12.*", "version", "3.12"), ("lts", "alias", "lts"), ("LATEST", "alias", "latest"),
    ("nightly-2024-05-01", "alias", "nightly-2024-05-01"), (">=18", "range", ">=18"),
    (">= 3.9, < 3.13", "range", ">=3.9,<3.13"), ("^1.2", "range", "^1.2"),
    ("~> 1.15", "range", "~>1.15"), ("~=3.10", "range", "~=3.10"), ("=1.2", "range", "==1.2"),
])
def test_parse_request(text: str, kind: str, norm: str) -> None:
    req = parse_request(text)
    assert (req.kind, req.text) == (kind, norm)


@pytest.mark.parametrize("bad", ["", "twenty", "node@20", ">=", "1..2", "^", "lts/iron"])
def test_bad_requests_say_what_was_expected(bad: str) -> None:
    with pytest.raises(RequestError, match="expected"):
        parse_request(bad)


@pytest.mark.parametrize(("a", "b", "agree"), [
    ("18", ">=20", False), ("20", ">=18", True), ("20.11.1", "20", True), ("20", "22", False),
    ("^8.1", "8.3", True), ("^8.1", "9", False), ("3.9", ">=3.10,<3.13", False),
    ("3.12", ">=3.10,<3.13", True), ("lts", "5", True), ("~>1.15", "1.16", True),
    ("~>1.15", "2.0", False), ("~=3.10", "4.0", False), ("^0.2.3", "0.3", False),
    ("~1.2", "1.3", False), ("<=2", "2.0", True), ("<=2", "2.1", False),
    (">2", "2", True), (">2", "1", False),
])
def test_may_agree(a: str, b: str, agree: bool) -> None:
    assert may_agree(a, b) is agree
    assert may_agree(b, a) is agree


def test_unsatisfiable_ranges_are_recognised() -> None:
    assert not satisfiable(">=3,<2")
    assert satisfiable(">=3,<4")


@given(st.text(max_size=40))
def test_parse_request_never_raises_anything_else(text: str) -> None:
    try:
        req = parse_request(text)
    except RequestError:
        return
    assert parse_request(req.text).text == req.text  # normal form is stable


@given(st.text(max_size=20), st.text(max_size=20))
def test_may_agree_is_total_and_symmetric(a: str, b: str) -> None:
    assert may_agree(a, b) == may_agree(b, a)
