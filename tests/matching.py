"""How a fixture's expected.json is compared with `zagi init --json` (see fixtures/README.md).

- objects: every expected key must be present and match (extra actual keys are fine);
  an empty object means "present" except for a top-level section ("tools": {}),
  where it means "nothing detected";
- lists of objects (evidence, projects): each expected item matches some actual item;
- "warnings" / "suggestions": each expected string is a substring of some actual one;
- "absent": {"tools": [...], "services": [...], "system": [...], "env": [...]} names
  that must NOT be detected;
- anything else: equality.
"""

from __future__ import annotations

from typing import Any


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        if expected == {} and path.count(".") == 1 and actual != {}:  # "tools": {} = none
            return [f"{path}: expected nothing, got {sorted(actual)}"]
        out: list[str] = []
        for key, exp in expected.items():
            if key == "absent" and not path:
                out += _absent(exp, actual)
            elif key not in actual:
                out.append(f"{path}.{key}: missing (have {sorted(actual)})")
            elif key in ("warnings", "suggestions") and not path:
                out += _substrings(exp, actual[key], key)
            else:
                out += mismatches(exp, actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {actual!r}"]
        if all(not isinstance(e, dict) for e in expected):
            return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]
        out = []
        for i, exp in enumerate(expected):
            if not any(not mismatches(exp, act) for act in actual):
                out.append(f"{path}[{i}]: no item matches {exp!r} in {actual!r}")
        return out
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


def _substrings(expected: list[str], actual: list[str], key: str) -> list[str]:
    return [f"{key}: none contains {e!r} in {actual!r}" for e in expected
            if not any(e in a for a in actual)]


def _absent(spec: dict[str, list[str]], actual: dict[str, Any]) -> list[str]:
    out = []
    for section, names in spec.items():
        have = actual.get(section) or {}
        if section == "system":
            have = have.get("packages", {})
        out += [f"absent.{section}: {n} was detected" for n in names if n in have]
    return out
