"""R projects: Binder's runtime.txt (`r-4.3-2023-06-01`), renv.lock, DESCRIPTION, install.R.

Binder's main audience is R and Python notebooks; the R version comes from runtime.txt
(a pin), renv.lock's `R.Version` (the version the lock was made with), or DESCRIPTION's
`Depends: R (>= 4.1.0)` (a floor). install.R alone is an R project with no version.
"""

from __future__ import annotations

import json
import re

from detectors import rank
from detectors.base import Ctx
from detectors.text import first_value_line

FILES = frozenset({"runtime.txt", "renv.lock", "DESCRIPTION", "install.R"})


def detect(ctx: Ctx) -> None:
    found = False
    if "runtime.txt" in ctx.names and (text := ctx.text("runtime.txt")):
        first = first_value_line(text)
        m = re.fullmatch(r"r-(\d+(?:\.\d+)*)(?:-\d{4}-\d{2}-\d{2})?", first[0].lower()) \
            if first else None
        if first and m:
            ctx.mark("r", "runtime.txt")
            ctx.tool("r", m.group(1), "pin", "runtime.txt", first[1], "runtime.txt r-VERSION",
                     rank.MANIFEST_PIN)
            found = True
    if "renv.lock" in ctx.names and (text := ctx.text("renv.lock")):
        ctx.mark("r", "renv.lock")
        try:
            doc = json.loads(text)
        except ValueError:
            ctx.warn(f"{ctx.rel('renv.lock')}: not valid JSON; ignored")
            doc = None
        r = doc.get("R") if isinstance(doc, dict) else None
        version = r.get("Version") if isinstance(r, dict) else None
        if isinstance(version, str) and re.fullmatch(r"\d+(\.\d+)*", version):
            line = next((i for i, ln in enumerate(text.splitlines(), 1) if '"Version"' in ln),
                        None)
            ctx.tool("r", version, "pin", "renv.lock", line, "renv.lock R.Version",
                     rank.LOCKFILE)
            found = True
    text = ctx.text("DESCRIPTION") if "DESCRIPTION" in ctx.names else None
    if text and re.search(r"^Package:", text, re.M):  # an R package's DESCRIPTION (DCF)
        ctx.mark("r", "DESCRIPTION")
        m = re.search(r"\bR\s*\(\s*>=\s*(\d+(?:\.\d+)*)\s*\)", text)
        if m:
            line = text[:m.start()].count("\n") + 1
            ctx.tool("r", f">={m.group(1)}", "floor", "DESCRIPTION", line,
                     f"Depends: R (>= {m.group(1)})", rank.MANIFEST_FLOOR)
            found = True
        elif not found:
            ctx.default("r", "DESCRIPTION", "R package; no R version stated")
            found = True
    if "install.R" in ctx.names and not found:
        ctx.mark("r", "install.R")
        ctx.default("r", "install.R", "install.R (Binder): an R project")
