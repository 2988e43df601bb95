"""Swift: .swift-version (pin) > Package.swift `// swift-tools-version:5.9` (a minimum)."""

from __future__ import annotations

import re

from detectors import rank
from detectors.base import Ctx
from detectors.common import clean_version
from detectors.text import first_value_line


def detect(ctx: Ctx) -> None:
    if not ctx.names & {"Package.swift", ".swift-version"}:
        return
    pinned = False
    if ".swift-version" in ctx.names and (text := ctx.text(".swift-version")):
        ctx.mark("swift", ".swift-version")
        first = first_value_line(text)
        if first and (v := clean_version(first[0])):
            ctx.tool("swift", v, "pin", ".swift-version", first[1], ".swift-version",
                     rank.VERSION_FILE)
            pinned = True
    if "Package.swift" in ctx.names and (text := ctx.head("Package.swift", 4096)):
        ctx.mark("swift", "Package.swift")
        m = re.match(r"^//\s*swift-tools-version\s*:\s*(\d+(?:\.\d+)*)", text)
        if m:
            ctx.tool("swift", f">={m.group(1)}", "floor", "Package.swift", 1,
                     "swift-tools-version (minimum)", rank.MANIFEST_FLOOR)
            pinned = True
    if not pinned:
        ctx.default("swift", "Package.swift", "Swift package; no version stated")
