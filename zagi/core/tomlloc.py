"""Find the line and column of a key path in TOML text, for error messages.

tomllib reports no positions for values it parsed fine but that the schema then
rejects, so we scan the text ourselves. This handles the shapes env.toml uses
(tables, dotted keys, inline tables on one line); anything else falls back to
the nearest enclosing table, which is still the right place to look.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_BARE = r"""(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)"""
_KEY = re.compile(rf"^\s*({_BARE}(?:\s*\.\s*{_BARE})*)\s*=")
_PART = re.compile(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_\-]+)""")


def _split(dotted: str) -> list[str]:
    return [a or b or c for a, b, c in _PART.findall(dotted)]


def locate(text: str, path: tuple[str | int, ...]) -> tuple[int, int]:
    """1-based (line, column) of the deepest part of `path` found in `text`."""
    want = [str(p) for p in path]
    best: tuple[int, int, int] = (0, 1, 1)  # (matched depth, line, col)
    table: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if m := _HEADER.match(line):
            table = _split(m.group(1))
            if table == want[: len(table)] and len(table) > best[0]:
                best = (len(table), lineno, m.start(1) + 1)
            continue
        if not (m := _KEY.match(line)):
            continue
        full = table + _split(m.group(1))
        depth = 0
        while depth < min(len(full), len(want)) and full[depth] == want[depth]:
            depth += 1
        if depth < len(full) or depth <= best[0]:
            continue
        col = m.start(1) + 1
        # An inline table on this line: point at the inner key when it is there.
        if depth < len(want):
            inner = re.search(rf"[{{,]\s*({re.escape(want[depth])})\s*=", line)
            if inner:
                depth, col = depth + 1, inner.start(1) + 1
        best = (depth, lineno, col)
    return best[1], best[2]
