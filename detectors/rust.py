"""Rust: rust-toolchain(.toml) with components and targets, rust-version, edition."""

from __future__ import annotations

import re
from typing import Any

from detectors import rank
from detectors.base import Ctx
from detectors.common import system_from_deps
from detectors.text import ParseError, first_value_line, load_toml
from zagi.core.tomlloc import locate
from zagi.core.versions import is_request

FILES = frozenset({"Cargo.toml", "rust-toolchain.toml", "rust-toolchain", "Cargo.lock"})
EDITION_FLOOR = {"2015": "1.0", "2018": "1.31", "2021": "1.56", "2024": "1.85"}


def detect(ctx: Ctx) -> None:
    if not ctx.names & FILES:
        return
    for f in sorted(ctx.names & FILES):
        ctx.mark("rust", f)
    pinned = _toolchain(ctx)
    cargo = _cargo(ctx)
    if cargo is not None and isinstance(cargo.get("package"), dict):
        ctx.name(cargo["package"].get("name"))
    if cargo is not None and not pinned:
        pinned = _msrv(ctx, cargo)
    _crates(ctx, cargo)
    if not pinned and not _in_cargo_workspace(ctx):
        ctx.default("rust", "Cargo.toml" if cargo is not None else sorted(ctx.names & FILES)[0],
                    "Cargo project; no toolchain pinned")


def _in_cargo_workspace(ctx: Ctx) -> bool:
    parts = [] if ctx.dir == "." else ctx.dir.split("/")
    return any(ctx.fs.exists("/".join([*parts[:i], "Cargo.toml"])) for i in range(len(parts)))


def _channel(value: str) -> str | None:
    v = value.strip()
    if re.fullmatch(r"(stable|beta|nightly)(-\d{4}-\d{2}-\d{2})?", v) or is_request(v):
        return v.removeprefix("stable-") if v.startswith("stable-") else v
    return None


def _toolchain(ctx: Ctx) -> bool:
    if "rust-toolchain.toml" in ctx.names and (text := ctx.text("rust-toolchain.toml")):
        try:
            data = load_toml(text)
        except ParseError as err:
            ctx.bad("rust-toolchain.toml", err)
            return False
        tc = data.get("toolchain")
        if isinstance(tc, dict) and isinstance(tc.get("channel"), str):
            ch = _channel(tc["channel"])
            if ch is None:
                ctx.warn(f"{ctx.rel('rust-toolchain.toml')}: channel {tc['channel']!r} is not "
                         "a version, stable, beta or nightly[-YYYY-MM-DD]; ignored")
                return False
            extra = {k: [str(x) for x in tc.get(k, []) if isinstance(x, str)]
                     for k in ("components", "targets") if isinstance(tc.get(k), list)}
            ctx.tool("rust", ch, "pin", "rust-toolchain.toml",
                     locate(text, ("toolchain", "channel"))[0], "[toolchain] channel",
                     rank.VERSION_FILE, extra)
            return True
    if "rust-toolchain" in ctx.names and (text := ctx.text("rust-toolchain")):
        first = first_value_line(text)
        if first and (ch := _channel(first[0])):
            ctx.tool("rust", ch, "pin", "rust-toolchain", first[1], "legacy rust-toolchain file",
                     rank.VERSION_FILE)
            return True
        if first and first[0].startswith("["):  # TOML content in the legacy file name
            try:
                tc = load_toml(text).get("toolchain", {})
                if isinstance(tc, dict) and (ch := _channel(str(tc.get("channel", "")))):
                    ctx.tool("rust", ch, "pin", "rust-toolchain", None, "[toolchain] channel",
                             rank.VERSION_FILE)
                    return True
            except ParseError as err:
                ctx.bad("rust-toolchain", err)
    return False


def _cargo(ctx: Ctx) -> dict[str, Any] | None:
    if "Cargo.toml" not in ctx.names or (text := ctx.text("Cargo.toml")) is None:
        return None
    try:
        return load_toml(text)
    except ParseError as err:
        ctx.bad("Cargo.toml", err)
        return None


def _msrv(ctx: Ctx, cargo: dict[str, Any]) -> bool:
    text = ctx.text("Cargo.toml") or ""
    for table in (("package",), ("workspace", "package")):
        node: Any = cargo
        for t in table:
            node = node.get(t) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        rv = node.get("rust-version")
        if isinstance(rv, str) and is_request(rv):
            ctx.tool("rust", f">={rv}", "floor", "Cargo.toml",
                     locate(text, (*table, "rust-version"))[0],
                     f"{'.'.join(table)}.rust-version (MSRV)", rank.MANIFEST_FLOOR)
            return True
        ed = node.get("edition")
        if isinstance(ed, str) and ed in EDITION_FLOOR:
            ctx.tool("rust", f">={EDITION_FLOOR[ed]}", "floor", "Cargo.toml",
                     locate(text, (*table, "edition"))[0], f"edition {ed}", rank.DERIVED_FLOOR)
            return True
    return False


def _crates(ctx: Ctx, cargo: dict[str, Any] | None) -> None:
    deps: dict[str, int | None] = {}
    if cargo is not None:
        text = ctx.text("Cargo.toml") or ""
        for section in ("dependencies", "build-dependencies", "dev-dependencies"):
            for holder in (cargo, cargo.get("workspace", {})):
                sec = holder.get(section) if isinstance(holder, dict) else None
                if isinstance(sec, dict):
                    for name in sec:
                        deps.setdefault(name, locate(text, (section, name))[0])
        system_from_deps(ctx, "rust", deps, "Cargo.toml")
    if "Cargo.lock" in ctx.names and (lock := ctx.text("Cargo.lock")):
        # Cargo.lock lists transitive crates (openssl -> openssl-sys); parse its names.
        locked: dict[str, int | None] = {}
        for m in re.finditer(r'^\[\[package\]\]\s*\nname = "([^"]+)"', lock, re.MULTILINE):
            locked.setdefault(m.group(1), lock.count("\n", 0, m.start()) + 2)
        system_from_deps(ctx, "rust", {k: v for k, v in locked.items() if k not in deps},
                         "Cargo.lock")
