"""Ruby: .ruby-version > Gemfile `ruby "X"` > Gemfile.lock RUBY VERSION; bundler: BUNDLED WITH."""

from __future__ import annotations

import re

from detectors import rank
from detectors.base import Ctx
from detectors.common import clean_version, system_from_deps
from detectors.text import first_value_line

FILES = frozenset({".ruby-version", "Gemfile", "Gemfile.lock", "gems.rb"})
_LOCKED_GEM = re.compile(r"^    ([A-Za-z0-9_.-]+) \(")  # 4 spaces: a locked gem, not a dependency


def detect(ctx: Ctx) -> None:
    if not ctx.names & FILES:
        return
    for f in sorted(ctx.names & FILES):
        ctx.mark("ruby", f)
    pinned = False
    if ".ruby-version" in ctx.names and (text := ctx.text(".ruby-version")):
        first = first_value_line(text)
        if first and (v := clean_version(first[0].removeprefix("ruby-"))):
            ctx.tool("ruby", v, "pin", ".ruby-version", first[1], ".ruby-version",
                     rank.VERSION_FILE)
            pinned = True
    if "Gemfile" in ctx.names and (text := ctx.text("Gemfile")):
        for n, line in enumerate(text.splitlines(), start=1):
            m = re.match(r"""^\s*ruby\s*\(?\s*['"]([^'"]+)['"]""", line)
            if m and (v := clean_version(m.group(1).lstrip("~>= "))):
                floor = bool(re.match(r"\s*[~>]", m.group(1)))
                ctx.tool("ruby", f">={v}" if floor else v, "floor" if floor else "pin", "Gemfile",
                         n, f"Gemfile ruby {m.group(1)!r}",
                         rank.MANIFEST_FLOOR if floor else rank.MANIFEST_PIN)
                pinned = True
                break
    if "Gemfile.lock" in ctx.names and (text := ctx.text("Gemfile.lock")):
        pinned |= _lockfile(ctx, text)
    if "Gemfile" in ctx.names or "gems.rb" in ctx.names:
        ctx.default("bundler", "Gemfile", "bundler, bundled with ruby")
    if not pinned:
        ctx.default("ruby", sorted(ctx.names & FILES)[0], "Ruby project; no version pinned")


def _lockfile(ctx: Ctx, text: str) -> bool:
    lines = text.splitlines()
    found = False
    gems: dict[str, int | None] = {}
    section = ""
    for n, line in enumerate(lines, start=1):
        if line and not line.startswith(" "):
            section = line.strip()
            continue
        if section == "RUBY VERSION" and (m := re.match(r"^\s+ruby (\d+(?:\.\d+)*)", line)):
            ctx.tool("ruby", m.group(1), "pin", "Gemfile.lock", n, "Gemfile.lock RUBY VERSION",
                     rank.LOCKFILE)
            found = True
        elif section == "BUNDLED WITH" and (v := clean_version(line)):
            ctx.tool("bundler", v, "pin", "Gemfile.lock", n, "Gemfile.lock BUNDLED WITH",
                     rank.LOCKFILE)
        elif section in ("GEM", "PATH", "GIT") and (m := _LOCKED_GEM.match(line)):
            gems.setdefault(m.group(1).lower(), n)
    system_from_deps(ctx, "ruby", gems, "Gemfile.lock")
    return found
