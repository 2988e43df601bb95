"""Small parsing helpers shared by detectors: JSON(C), YAML with lines, line lookup.

Every helper either returns data or raises ParseError with a line number and a
description of what was expected; detectors turn ParseError into a warning.
"""

from __future__ import annotations

import json
import re
from typing import Any


class ParseError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def first_value_line(text: str) -> tuple[str, int] | None:
    """The first line that is not blank or a # comment, stripped, with its 1-based number."""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            return line, n
    return None


def line_of(text: str, pattern: str, start: int = 0) -> int | None:
    """1-based line of the first regex match at or after character `start`."""
    m = re.compile(pattern, re.MULTILINE).search(text, start)
    return text.count("\n", 0, m.start()) + 1 if m else None


def json_key_line(text: str, *keys: str) -> int | None:
    """Line of the last key in a nested key path, found in order: ("engines", "node").

    An approximation (it does not track nesting) that is right for how manifests
    are written; it is only used for evidence, never to decide a value.
    """
    pos, line = 0, None
    for key in keys:
        m = re.compile(rf'"{re.escape(key)}"\s*:').search(text, pos)
        if not m:
            return line
        pos = m.end()
        line = text.count("\n", 0, m.start()) + 1
    return line


def load_json(text: str, jsonc: bool = False) -> Any:
    """JSON, or with `jsonc` JSON with comments and trailing commas (devcontainer.json,
    deno.jsonc, tsconfig) read by a real JSON5 parser (`json5`): a hand-made comment and
    comma stripper once rewrote `"a,]"` inside a string."""
    if jsonc:
        import json5

        try:
            return json5.loads(text)
        except ValueError as exc:
            m = re.search(r":(\d+)", str(exc))
            raise ParseError(f"invalid JSON: {exc}", int(m.group(1)) if m else None) from None
        except RecursionError:
            raise ParseError("invalid JSON: nested too deeply") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise ParseError("invalid JSON: nested too deeply") from None


def load_toml(text: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        raise ParseError(f"invalid TOML: {exc}", int(m.group(1)) if m else None) from None
    except RecursionError:
        raise ParseError("invalid TOML: nested too deeply") from None


_MAX_YAML_NODES = 200_000


def load_yaml(text: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """YAML -> (data, {key path: 1-based line}), safe and bounded.

    Built on yaml.compose (no object construction, no tags run) with a node budget,
    so alias bombs ("billion laughs") end in a ParseError rather than eating memory.
    """
    import yaml

    # libyaml's loader when PyYAML was built with it: ~17x faster on workflow files
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParseError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
                         mark.line + 1 if mark else None) from None
    except RecursionError:
        raise ParseError("invalid YAML: nested too deeply") from None
    lines: dict[tuple[Any, ...], int] = {}
    budget = [_MAX_YAML_NODES]

    def conv(node: Any, path: tuple[Any, ...], depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > 100:
            raise ParseError("YAML too large or too deeply nested (aliases?)")
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k.start_mark.line)
                out[key] = conv(v, (*path, key), depth + 1)
                lines[(*path, key)] = k.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [conv(v, (*path, i), depth + 1) for i, v in enumerate(node.value)]
        return node.value  # scalars stay strings: "3.10" must not become 3.1

    return (None if root is None else conv(root, (), 0)), lines
