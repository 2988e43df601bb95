"""Go: .go-version, go.mod / go.work `toolchain` (pin) and `go` (floor) directives."""

from __future__ import annotations

import re

from detectors import rank
from detectors.base import Ctx
from detectors.common import clean_version
from detectors.text import first_value_line

FILES = frozenset({"go.mod", "go.work", ".go-version"})
_DIRECTIVE = re.compile(r"^\s*(go|toolchain)\s+(\S+)\s*$")


def detect(ctx: Ctx) -> None:
    if not ctx.names & FILES:
        return
    for f in sorted(ctx.names & FILES):
        ctx.mark("go", f)
    pinned = False
    if ".go-version" in ctx.names and (text := ctx.text(".go-version")):
        first = first_value_line(text)
        if first and (v := clean_version(first[0].removeprefix("go"))):
            ctx.tool("go", v, "pin", ".go-version", first[1], ".go-version", rank.VERSION_FILE)
            pinned = True
    # go.work governs a workspace, so it is read first and outranks go.mod slightly.
    for name, bonus in (("go.work", 1), ("go.mod", 0)):
        if name in ctx.names and (text := ctx.text(name)):
            pinned |= _directives(ctx, name, text, bonus)
            if m := re.search(r"^\s*module\s+(\S+)", text, re.MULTILINE):
                ctx.name(m.group(1).rstrip("/").rsplit("/", 1)[-1])
    if not pinned:
        ctx.default("go", sorted(ctx.names & FILES)[0], "Go module; no go version stated")


def _directives(ctx: Ctx, name: str, text: str, bonus: int) -> bool:
    found = False
    for n, raw in enumerate(text.splitlines(), start=1):
        m = _DIRECTIVE.match(raw.split("//", 1)[0])
        if not m:
            continue
        word, value = m.groups()
        if word == "toolchain" and (v := clean_version(value.removeprefix("go"))):
            ctx.tool("go", v, "pin", name, n, f"{name} toolchain {value}",
                     rank.MANIFEST_PIN + bonus)
            found = True
        elif word == "go" and (v := clean_version(value)):
            # Since Go 1.21 the go line is the minimum version the module needs.
            ctx.tool("go", f">={v}", "floor", name, n, f"{name} go {value} (minimum)",
                     rank.MANIFEST_FLOOR + bonus)
            found = True
    return found
