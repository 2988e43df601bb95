"""Version *requests*: what env.toml says ("20", ">=20", "^1.2", "lts"), not what it resolves to.

Resolution (picking a concrete version) happens in nixgen; this module only
parses requests and answers "could these two agree?", which detectors need to
report conflicting pins honestly.

Grammar (documented in docs/env-toml.md):
  alias     lts | latest | stable | beta | nightly | nightly-YYYY-MM-DD | *
  version   1 | 1.2 | 1.2.3 | 1.2.3-rc.1 | 0.14.0-dev.39+d092c752f
            (a prefix: "20" means the newest 20.x)
  x-range   18.x | 3.12.*                    (normalised to "18", "3.12")
  range     one or more of  >=V >V <=V <V ==V !=V ^V ~V ~=V ~>V  joined by "," or spaces

Bounds are strict, as in PEP 440: "<=2" admits 2.0 but not 2.1 (npm would read
it as "<3"); ^ and ~ follow npm/cargo, ~= and ~> the "pessimistic" rule.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

ALIASES = frozenset({"lts", "latest", "stable", "beta", "nightly", "*"})
_NIGHTLY = re.compile(r"^nightly-\d{4}-\d{2}-\d{2}$")
# ... plus semver build metadata, as zig's dev versions carry it: 0.14.0-dev.39+d092c752f
_VERSION = r"\d+(?:\.\d+)*(?:[-+]?[a-z][0-9a-z.]*)?(?:\+[0-9a-z.]+)?"
_VERSION_RE = re.compile(rf"^{_VERSION}$")
_XRANGE = re.compile(r"^(\d+(?:\.\d+)*)(?:\.[x*])+$", re.IGNORECASE)
_OP = r"(?:>=|<=|==|!=|~=|~>|>|<|=|\^|~)"
_CONSTRAINT = re.compile(rf"({_OP})\s*v?({_VERSION})")
_RANGE_RE = re.compile(rf"^\s*{_OP}\s*v?{_VERSION}(?:\s*,?\s*{_OP}\s*v?{_VERSION})*\s*$")

Kind = Literal["alias", "version", "range"]
_WIDTH = 6
_TOP = 10**12


@dataclass(frozen=True, slots=True)
class Constraint:
    op: str
    version: str


@dataclass(frozen=True, slots=True)
class Request:
    text: str
    kind: Kind
    constraints: tuple[Constraint, ...] = ()


class RequestError(ValueError):
    """The text is not a version request; the message says what was expected."""


EXPECTED = (
    'a version request such as "20", "3.12.1", ">=18", "^1.2", "~3.11", "lts" or "latest"'
)


MAX_REQUEST_CHARS = 64  # "~> 3.2.1, < 4" fits many times; a 100,000-digit .nvmrc does not
MAX_COMPONENT_DIGITS = 9  # a version component is an int; Python refuses huge int strings
_HUGE_NUMBER = re.compile(r"\d{%d,}" % (MAX_COMPONENT_DIGITS + 1))  # noqa: UP031 - a regex


def parse_request(text: str) -> Request:
    s = text.strip()
    low = s.lower()
    if not s:
        raise RequestError(f"empty version; expected {EXPECTED}")
    if len(s) > MAX_REQUEST_CHARS or _HUGE_NUMBER.search(s):
        shown = s[:20] + "..." if len(s) > 20 else s
        raise RequestError(f"{shown!r} is not a version request (too long, or a number with "
                           f"more than {MAX_COMPONENT_DIGITS} digits); expected {EXPECTED}")
    if low in ALIASES or _NIGHTLY.match(low):
        return Request(low, "alias")
    if m := _XRANGE.match(s):
        return Request(m.group(1), "version")
    if _VERSION_RE.match(low.removeprefix("v")):
        return Request(low.removeprefix("v"), "version")
    if _RANGE_RE.match(low):
        cons = tuple(Constraint("==" if op == "=" else op, v) for op, v in _CONSTRAINT.findall(low))
        return Request(",".join(f"{c.op}{c.version}" for c in cons), "range", cons)
    raise RequestError(f"{text!r} is not a version request; expected {EXPECTED}")


def is_request(text: str) -> bool:
    try:
        parse_request(text)
    except RequestError:
        return False
    return True


@functools.lru_cache(maxsize=8192)  # resolution compares each catalog version many times
def numeric(version: str) -> tuple[int, ...]:
    """The leading numeric components: "3.12.1rc1" -> (3, 12, 1)."""
    out: list[int] = []
    for part in re.split(r"[.]", version):
        m = re.match(r"\d+", part)
        if not m:
            break
        if len(m.group()) > MAX_COMPONENT_DIGITS:  # never a real version; int() would balk
            break
        out.append(int(m.group()))
        if m.end() != len(part):
            break
    return tuple(out)


def _key(parts: tuple[int, ...]) -> tuple[int, ...]:
    return (parts + (0,) * _WIDTH)[:_WIDTH]


def _bump(parts: tuple[int, ...], index: int) -> tuple[int, ...]:
    """The first version past the prefix parts[:index+1]: (3, 12) bumped at 0 -> (4,)."""
    return (*parts[:index], parts[index] + 1)


# A bound is (key, inclusive). Lower bounds start at zero, upper bounds at infinity.
Bound = tuple[tuple[int, ...], bool]


def _interval(c: Constraint) -> tuple[Bound, Bound]:
    v = numeric(c.version) or (0,)
    lo: Bound = (_key(()), True)
    hi: Bound = (_key((_TOP,)), False)
    last = len(v) - 1
    if c.op == ">=":
        lo = (_key(v), True)
    elif c.op == ">":
        lo = (_key(v), False)
    elif c.op == "<=":
        hi = (_key(v), True)
    elif c.op == "<":
        hi = (_key(v), False)
    elif c.op == "==":
        lo, hi = (_key(v), True), (_key(_bump(v, last)), False)
    elif c.op == "^":
        # Caret: the left-most non-zero component may not change (npm/cargo semantics).
        nz = next((i for i, p in enumerate(v) if p != 0), last)
        lo, hi = (_key(v), True), (_key(_bump(v, nz)), False)
    elif c.op == "~":
        # Tilde: patch-level changes if a minor is given, else minor-level.
        lo, hi = (_key(v), True), (_key(_bump(v, min(1, last))), False)
    elif c.op in ("~=", "~>"):
        # PEP 440 / RubyGems "pessimistic": drop the last component, bump the one before.
        lo, hi = (_key(v), True), (_key(_bump(v, max(0, last - 1))), False)
    return lo, hi


def _intersect(req: Request) -> tuple[Bound, Bound]:
    lo: Bound = (_key(()), True)
    hi: Bound = (_key((_TOP,)), False)
    for c in req.constraints:
        if c.op == "!=":
            continue
        clo, chi = _interval(c)
        if clo[0] > lo[0] or (clo[0] == lo[0] and not clo[1]):
            lo = clo
        if chi[0] < hi[0] or (chi[0] == hi[0] and not chi[1]):
            hi = chi
    return lo, hi


def _nonempty(lo: Bound, hi: Bound) -> bool:
    return lo[0] < hi[0] or (lo[0] == hi[0] and lo[1] and hi[1])


def _as_interval(req: Request) -> tuple[Bound, Bound] | None:
    """The versions a request admits, or None when it cannot be bounded (aliases)."""
    if req.kind == "alias":
        return None
    if req.kind == "version":
        v = numeric(req.text)
        if not v:
            return None
        return (_key(v), True), (_key(_bump(v, len(v) - 1)), False)
    return _intersect(req)


def may_agree(a: str, b: str) -> bool:
    """Could one concrete version satisfy both requests? Aliases agree with anything."""
    try:
        ia, ib = _as_interval(parse_request(a)), _as_interval(parse_request(b))
    except RequestError:
        return a.strip() == b.strip()
    if ia is None or ib is None:
        return True
    lo = max(ia[0], ib[0], key=lambda bd: (bd[0], not bd[1]))
    hi = min(ia[1], ib[1], key=lambda bd: (bd[0], bd[1]))
    return _nonempty(lo, hi)


def satisfiable(text: str) -> bool:
    """False for ranges no version can meet, such as ">=3,<2"."""
    iv = _as_interval(parse_request(text))
    return iv is None or _nonempty(*iv)


_PRE = re.compile(r"\d(?:[-+.]?(?:a|b|rc|alpha|beta|pre|preview|dev)\d*)(?:[.-]|$)", re.I)


@functools.lru_cache(maxsize=8192)
def prerelease(version: str) -> bool:
    """3.13.0rc1, 1.2.3-beta.1, 0.14.0-dev.39: a version not yet released."""
    return bool(_PRE.search(version))


def allows(req: Request, version: str) -> bool:
    """Does the concrete `version` satisfy a version or range request? (Aliases: caller's job.)

    A pre-release satisfies a request only when the request itself names one, as both
    npm and PEP 440 rule: ">=3.13" or "3.13" never picks 3.13.0rc1."""
    if prerelease(version) and not prerelease(req.text):
        return False
    v = _key(numeric(version))
    if req.kind == "version":
        want = numeric(req.text)
        return numeric(version)[: len(want)] == want
    if req.kind != "range":
        return True
    for c in req.constraints:
        if c.op == "!=":
            if numeric(version)[: len(numeric(c.version))] == numeric(c.version):
                return False
            continue
        lo, hi = _interval(c)
        if v < lo[0] or (v == lo[0] and not lo[1]) or v > hi[0] or (v == hi[0] and not hi[1]):
            return False
    return True
