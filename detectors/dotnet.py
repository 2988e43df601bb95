""".NET: global.json sdk.version (pin) > *.csproj / *.fsproj TargetFramework (netX.Y)."""

from __future__ import annotations

import re

from detectors import rank
from detectors.base import Ctx
from detectors.common import clean_version
from detectors.text import ParseError, json_key_line, load_json


def detect(ctx: Ctx) -> None:
    projs = sorted(n for n in ctx.names if n.endswith((".csproj", ".fsproj", ".sln")))
    if "global.json" not in ctx.names and not projs:
        return
    pinned = False
    if "global.json" in ctx.names and (text := ctx.text("global.json")):
        try:
            data = load_json(text, jsonc=True)
        except ParseError as err:
            ctx.bad("global.json", err)
            data = None
        sdk = data.get("sdk") if isinstance(data, dict) else None
        v = sdk.get("version") if isinstance(sdk, dict) else None
        if isinstance(v, str) and (cv := clean_version(v)):
            ctx.mark("dotnet", "global.json")
            ctx.tool("dotnet", cv, "pin", "global.json", json_key_line(text, "sdk", "version"),
                     "global.json sdk.version", rank.VERSION_FILE)
            pinned = True
    for proj in projs:
        ctx.mark("dotnet", proj)
        text = ctx.text(proj) if not proj.endswith(".sln") else None
        m = re.search(r"<TargetFrameworks?>\s*net(\d+\.\d+)", text or "")
        if text and m:
            ctx.tool("dotnet", m.group(1).split(".")[0], "pin", proj,
                     text.count("\n", 0, m.start()) + 1, f"TargetFramework net{m.group(1)}",
                     rank.LOCKFILE)
            pinned = True
    if not pinned:
        ctx.default("dotnet", projs[0] if projs else "global.json", ".NET project; no SDK pinned")
