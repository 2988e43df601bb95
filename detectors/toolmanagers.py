"""Files of tool managers and of the env tools people migrate from.

.tool-versions and mise.toml (the user's tool manager: highest file rank),
devbox.json and nixpacks.toml (another env tool's explicit package list), and
.devcontainer/devcontainer.json (an image plus features).
"""

from __future__ import annotations

import re
from typing import Any

from detectors import docker, rank
from detectors.base import Ctx, data
from detectors.common import (
    clean_version,
    image_ref,
    image_tool,
    lookup_image,
    map_system_name,
    tag_version,
)
from detectors.text import ParseError, json_key_line, load_json, load_toml
from zagi.core.tomlloc import locate

DEVCONTAINER = (".devcontainer/devcontainer.json", ".devcontainer.json")


def canonical(name: str) -> str | None:
    aliases: dict[str, str] = data("toolnames")["aliases"]
    return aliases.get(name.lower())


def detect(ctx: Ctx) -> None:
    if ".tool-versions" in ctx.names:
        _tool_versions(ctx)
    for name in ("mise.toml", ".mise.toml"):
        if name in ctx.names:
            _mise(ctx, name)
    if "devbox.json" in ctx.names:
        _devbox(ctx)
    if "nixpacks.toml" in ctx.names:
        _nixpacks(ctx)
    if ".devcontainer" in ctx.names or ".devcontainer.json" in ctx.names:
        _devcontainer(ctx)


def _asdf_version(tool: str, raw: str) -> str | None:
    if tool == "java":
        m = re.search(r"(\d+)(?:\.\d+)*", raw)  # temurin-21.0.2+13.0.LTS -> 21
        return m.group(1) if m else None
    if tool == "elixir":
        raw = re.sub(r"-otp-\d+$", "", raw)
    if raw in ("lts", "latest", "stable"):
        return raw
    return clean_version(raw)


def _tool_versions(ctx: Ctx) -> None:
    text = ctx.text(".tool-versions")
    if text is None:
        return
    ctx.mark("tool-versions", ".tool-versions")
    for n, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split("#", 1)[0].split()
        if len(parts) < 2:
            continue
        tool = canonical(parts[0])
        if tool is None:
            ctx.warn(f"{ctx.rel('.tool-versions')}:{n}: {parts[0]!r} is not a tool zagi "
                     "knows; ignored")
            continue
        # Several versions: asdf uses the first, the rest are fallbacks.
        v = _asdf_version(tool, parts[1])
        if v is None:
            ctx.warn(f"{ctx.rel('.tool-versions')}:{n}: {parts[1]!r} is not a {tool} "
                     "version; ignored")
            continue
        ctx.tool(tool, v, "pin", ".tool-versions", n, ".tool-versions", rank.TOOL_MANAGER)


def _mise(ctx: Ctx, name: str) -> None:
    text = ctx.text(name)
    if text is None:
        return
    try:
        doc = load_toml(text)
    except ParseError as err:
        ctx.bad(name, err)
        return
    ctx.mark("mise", name)
    tools = doc.get("tools")
    for key, val in (tools.items() if isinstance(tools, dict) else []):
        if ":" in key and not key.startswith("core:"):
            continue  # npm:prettier, cargo:ripgrep: packages of a backend, not runtimes
        tool = canonical(key.removeprefix("core:"))
        if isinstance(val, list):
            val = val[0] if val else None
        if isinstance(val, dict):
            val = val.get("version")
        if tool is None or not isinstance(val, str):
            continue
        v = _asdf_version(tool, val.removeprefix("prefix:"))
        if v:
            ctx.tool(tool, v, "pin", name, locate(text, ("tools", key))[0], f"{name} [tools]",
                     rank.TOOL_MANAGER)
    env = doc.get("env")
    for key, val in (env.items() if isinstance(env, dict) else []):
        if isinstance(val, str):
            docker.env_candidate(ctx, key, val, name, locate(text, ("env", key))[0],
                                 f"{name} [env]")


def _nix_package(ctx: Ctx, pkg: str, file: str, line: int | None, rule: str) -> None:
    """devbox/nixpacks package names: "nodejs@20", "nodejs_20", "python312", "libpq"."""
    name, _, version = pkg.partition("@")
    m = re.fullmatch(r"([a-z][a-z-]*?)_?(\d+)(?:_(\d+))?", name)
    if m and canonical(m.group(1)):
        base = m.group(1)
        num = m.group(2)
        # python312 -> 3.12 ; go_1_22 -> 1.22 ; nodejs_20 -> 20
        version = version or (f"{num[0]}.{num[1:]}" if base.startswith("python") and len(num) > 1
                              else f"{num}.{m.group(3)}" if m.group(3) else num)
        name = base
    svc = data("toolnames")["services"].get(re.sub(r"\d+$", "", name))
    if svc:
        mm = re.search(r"(\d+)$", name)
        sv = version or (mm.group(1) if mm else None)
        ctx.service(svc, clean_version(sv) if sv and sv != "latest" else None, file, line,
                    rule, rank.MIGRATION)
        return
    tool = canonical(name)
    if tool:
        v = clean_version(version) if version and version != "latest" else None
        ctx.tool(tool, v or version or None, "pin" if v else "default", file, line, rule,
                 rank.MIGRATION)
        return
    mapped, _known = map_system_name(name)
    for lib in mapped:
        ctx.system(lib, file, line, rule)


def _devbox(ctx: Ctx) -> None:
    text = ctx.text("devbox.json")
    if text is None:
        return
    try:
        doc = load_json(text, jsonc=True)
    except ParseError as err:
        ctx.bad("devbox.json", err)
        return
    ctx.mark("devbox", "devbox.json")
    pkgs = doc.get("packages") if isinstance(doc, dict) else None
    items: list[str] = []
    if isinstance(pkgs, list):
        items = [p for p in pkgs if isinstance(p, str)]
    elif isinstance(pkgs, dict):
        items = [f"{k}@{v if isinstance(v, str) else (v or {}).get('version', 'latest')}"
                 for k, v in pkgs.items()]
    for pkg in items:
        line = json_key_line(text, pkg.split("@")[0]) or text.count("\n", 0, max(0, text.find(pkg))) + 1
        _nix_package(ctx, pkg, "devbox.json", line, f"devbox package {pkg}")


def _nixpacks(ctx: Ctx) -> None:
    text = ctx.text("nixpacks.toml")
    if text is None:
        return
    try:
        doc = load_toml(text)
    except ParseError as err:
        ctx.bad("nixpacks.toml", err)
        return
    ctx.mark("nixpacks", "nixpacks.toml")
    setup = doc.get("phases", {}).get("setup", {}) if isinstance(doc.get("phases"), dict) else {}
    if not isinstance(setup, dict):
        return
    for key in ("nixPkgs", "nixpkgs"):
        for pkg in setup.get(key, []) if isinstance(setup.get(key), list) else []:
            if isinstance(pkg, str) and pkg != "...":
                _nix_package(ctx, pkg, "nixpacks.toml", locate(text, ("phases", "setup", key))[0],
                             f"nixpacks nixPkgs {pkg}")
    for pkg in setup.get("aptPkgs", []) if isinstance(setup.get("aptPkgs"), list) else []:
        if isinstance(pkg, str) and pkg != "...":
            mapped, _ = map_system_name(pkg)
            for lib in mapped:
                ctx.system(lib, "nixpacks.toml", locate(text, ("phases", "setup", "aptPkgs"))[0],
                           f"nixpacks aptPkgs {pkg}")


def _devcontainer(ctx: Ctx) -> None:
    for rel in DEVCONTAINER:
        text = ctx.text(rel) if ctx.fs.exists(ctx.rel(rel)) else None
        if text is None:
            continue
        try:
            doc = load_json(text, jsonc=True)
        except ParseError as err:
            ctx.bad(rel, err)
            continue
        if not isinstance(doc, dict):
            continue
        ctx.mark("devcontainer", rel)
        _devcontainer_doc(ctx, rel, text, doc)


def _devcontainer_doc(ctx: Ctx, rel: str, text: str, doc: dict[str, Any]) -> None:
    image = doc.get("image")
    if isinstance(image, str):
        name, tag = image_ref(image)
        if tool := lookup_image(name, "tools"):
            image_tool(ctx, tool, tag_version(name, tag), rel, json_key_line(text, "image"),
                       f"devcontainer image {image}", rank.CONTAINER, tag)
    build = doc.get("build")
    if isinstance(build, dict) and isinstance(build.get("dockerfile"), str):
        base = rel.rsplit("/", 1)[0] if "/" in rel else "."
        df = f"{base}/{build['dockerfile']}" if base != "." else build["dockerfile"]
        docker.dockerfile(ctx, df)
    feats = doc.get("features")
    for key, opts in (feats.items() if isinstance(feats, dict) else []):
        fname = key.rsplit("/", 1)[-1].split(":", 1)[0]
        tool = canonical(fname)
        if tool is None:
            continue
        ver = opts.get("version") if isinstance(opts, dict) else None
        v = ver if ver in ("lts", "latest") else clean_version(ver) if isinstance(ver, str) else None
        ctx.tool(tool, v, "pin" if v else "default", rel, json_key_line(text, "features", key),
                 f"devcontainer feature {fname}", rank.CONTAINER)
