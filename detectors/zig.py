"""Zig: .zig-version / .zigversion, build.zig.zon minimum_zig_version, bare build.zig."""

from __future__ import annotations

import re

from detectors import rank
from detectors.base import Ctx
from detectors.common import clean_version
from detectors.text import first_value_line

FILES = frozenset({".zig-version", ".zigversion", "build.zig", "build.zig.zon"})


def detect(ctx: Ctx) -> None:
    if not ctx.names & FILES:
        return
    for f in sorted(ctx.names & FILES):
        ctx.mark("zig", f)
    pinned = False
    for name in (".zig-version", ".zigversion"):
        if name in ctx.names and (text := ctx.text(name)):
            first = first_value_line(text)
            if first and (v := clean_version(first[0])):
                ctx.tool("zig", v, "pin", name, first[1], name, rank.VERSION_FILE)
                pinned = True
    if "build.zig.zon" in ctx.names and (text := ctx.text("build.zig.zon")):
        clean = "\n".join(line.split("//", 1)[0] for line in text.splitlines())
        m = re.search(r'\.minimum_zig_version\s*=\s*"([^"]+)"', clean)
        if m and (v := clean_version(m.group(1))):
            # A minimum by name, but the community treats it as the version to use.
            ctx.tool("zig", v, "pin", "build.zig.zon", clean.count("\n", 0, m.start()) + 1,
                     ".minimum_zig_version", rank.MANIFEST_PIN)
            pinned = True
    if not pinned:
        ctx.default("zig", "build.zig" if "build.zig" in ctx.names else "build.zig.zon",
                    "build.zig without a version: a guess")
        ctx.warn(f"{ctx.rel('build.zig')}: no zig version found (.zig-version or "
                 "build.zig.zon .minimum_zig_version); zig left unversioned, a guess")
