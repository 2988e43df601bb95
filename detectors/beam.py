"""Elixir and Erlang: .elixir-version, .erlang-version, mix.exs `elixir: "~> 1.15"`."""

from __future__ import annotations

import re

from detectors import rank
from detectors.base import Ctx
from detectors.common import clean_version, constraint
from detectors.text import first_value_line

FILES = frozenset({"mix.exs", "mix.lock", ".elixir-version", ".erlang-version", "rebar.config"})


def detect(ctx: Ctx) -> None:
    if not ctx.names & FILES:
        return
    for f in sorted(ctx.names & FILES):
        ctx.mark("elixir" if "rebar" not in f and "erlang" not in f else "erlang", f)
    pinned = {"elixir": False, "erlang": False}
    for name, tool in ((".elixir-version", "elixir"), (".erlang-version", "erlang")):
        if name in ctx.names and (text := ctx.text(name)):
            first = first_value_line(text)
            raw = re.sub(r"-otp-\d+$", "", first[0]) if first else ""
            if first and (v := clean_version(raw)):
                ctx.tool(tool, v, "pin", name, first[1], name, rank.VERSION_FILE)
                pinned[tool] = True
    if "mix.exs" in ctx.names and (text := ctx.text("mix.exs")):
        m = re.search(r"""\belixir:\s*"([^"]+)\"""", text)
        if m and (c := constraint(m.group(1))):
            r = rank.MANIFEST_PIN if c[1] == "pin" else rank.MANIFEST_FLOOR
            ctx.tool("elixir", c[0], c[1], "mix.exs", text.count("\n", 0, m.start()) + 1,
                     f"mix.exs elixir: {m.group(1)!r}", r)
            pinned["elixir"] = True
    elixir = bool(ctx.names & {"mix.exs", "mix.lock", ".elixir-version"})
    if elixir and not pinned["elixir"]:
        ctx.default("elixir", "mix.exs", "Mix project; no elixir version stated")
    if (elixir or "rebar.config" in ctx.names) and not pinned["erlang"]:
        ctx.default("erlang", "mix.exs" if elixir else "rebar.config",
                    "the BEAM runtime elixir runs on")
