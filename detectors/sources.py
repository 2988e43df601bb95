"""Repositories with source files and no manifest: a main.go, an index.php, a folder of
.py files, TypeScript importing from deno.land or jsr:. Used only when nothing else in
the repository names a tool (detectors/__init__.py), as a weak default with its evidence:
the build-plan tools detect these too, and an empty env helps nobody.
"""

from __future__ import annotations

import re

from detectors.base import Ctx

# extension -> tool, in the order a mixed folder is reported
EXTENSIONS = ((".go", "go"), (".py", "python"), (".php", "php"), (".rb", "ruby"),
              (".rs", "rust"), (".zig", "zig"), (".R", "r"), (".ex", "elixir"),
              (".exs", "elixir"), (".swift", "swift"), (".ts", "node"), (".js", "node"),
              (".mjs", "node"))
_DENO = re.compile(r"""(?:from|import)\s*\(?\s*["'](?:https://deno\.land/|jsr:|npm:)""")
MAX_PEEK = 20  # script files read for deno imports


def detect(ctx: Ctx) -> None:
    by_tool: dict[str, list[str]] = {}
    for name in sorted(ctx.names):
        for ext, tool in EXTENSIONS:
            if name.endswith(ext) and not name.startswith("."):
                by_tool.setdefault(tool, []).append(name)
                break
    scripts = by_tool.pop("node", [])
    deno = [n for n in scripts[:MAX_PEEK] if _DENO.search(ctx.head(n, 16 << 10) or "")]
    if deno:
        by_tool["deno"] = deno
    elif scripts:
        by_tool["node"] = scripts
    for tool, files in by_tool.items():
        what = "imports from deno.land / jsr:" if tool == "deno" else f"{len(files)} {tool} " \
            f"source file{'s' if len(files) > 1 else ''}"
        ctx.default(tool, files[0], f"{what}, no manifest: a guess")
