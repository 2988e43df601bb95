"""PHP: .php-version, composer.json require.php (a constraint) and ext-* extensions."""

from __future__ import annotations

from detectors import rank
from detectors.base import Ctx
from detectors.common import clean_version, constraint
from detectors.text import ParseError, first_value_line, json_key_line, load_json

FILES = frozenset({"composer.json", "composer.lock", ".php-version"})


def detect(ctx: Ctx) -> None:
    if not ctx.names & FILES:
        return
    for f in sorted(ctx.names & FILES):
        ctx.mark("php", f)
    pinned = False
    if ".php-version" in ctx.names and (text := ctx.text(".php-version")):
        first = first_value_line(text)
        if first and (v := clean_version(first[0])):
            ctx.tool("php", v, "pin", ".php-version", first[1], ".php-version", rank.VERSION_FILE)
            pinned = True
    if "composer.json" in ctx.names and (text := ctx.text("composer.json")):
        try:
            data = load_json(text)
        except ParseError as err:
            ctx.bad("composer.json", err)
            data = None
        req = data.get("require") if isinstance(data, dict) else None
        if isinstance(req, dict):
            exts = sorted(k[4:] for k in req if isinstance(k, str) and k.startswith("ext-"))
            php = req.get("php")
            c = constraint(php) if isinstance(php, str) else None
            if c:
                r = rank.MANIFEST_PIN if c[1] == "pin" else rank.MANIFEST_FLOOR
                ctx.tool("php", c[0], c[1], "composer.json", json_key_line(text, "require", "php"),
                         f"require.php {php!r}{c[2]}", r, {"extensions": exts})
                pinned = True
            elif exts:
                ctx.tool("php", None, "default", "composer.json",
                         json_key_line(text, "require"), "require ext-*", rank.DEFAULT,
                         {"extensions": exts})
        ctx.default("composer", "composer.json", "composer.json present")
    if not pinned:
        ctx.default("php", sorted(ctx.names & FILES)[0], "PHP project; no version pinned")
