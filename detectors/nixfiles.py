"""flake.nix / shell.nix / default.nix: the repo describes its own env in Nix.

Recorded in env.toml's [nix] with its evidence; zagi does not build these envs yet (it
locks the tools detection finds), and says so rather than pretending to prefer them."""

from __future__ import annotations

import re

from detectors import rank
from detectors.base import Ctx, data

# (file, [nix] key, rank): a flake is the most complete description.
NIX_FILES = (("flake.nix", "flake", 3), ("shell.nix", "shell", 2), ("default.nix", "shell", 1))


def detect(ctx: Ctx) -> None:
    for name, key, rnk in NIX_FILES:
        if name not in ctx.names:
            continue
        text = ctx.text(name) or ""
        ctx.mark("nix", name)
        value = "." if key == "flake" else name
        if ctx.dir != ".":
            value = ctx.dir if key == "flake" else f"{ctx.dir}/{name}"
        rule = f"{name} present: the repo's own Nix environment"
        if key == "flake" and "devShell" not in text:
            ctx.warn(f"{ctx.rel(name)}: no devShells output found")
        ctx.add("nix", key, value, "pin", name, None, rule, rnk)
        _package_lists(ctx, name, text)


# `buildInputs = with pkgs; [ nodejs_20 openssl ];`, `packages = [ pkgs.go_1_22 ];`:
# best effort over the text (no Nix is evaluated), for the common shapes.
_LIST = re.compile(r"\b(buildInputs|nativeBuildInputs|packages)\s*=\s*(?:with\s+[\w.]+\s*;\s*)?"
                   r"\[([^\]]{0,20000})\]")
_ATTR = re.compile(r"(?<![\w.\-])(?:pkgs\.)?([A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)?)")
_NOT_PACKAGES = frozenset({"pkgs", "lib", "with", "inherit", "import", "let", "in", "self",
                           "inputs", "system", "stdenv", "mkShell", "callPackage", "config",
                           "then", "else", "if", "or", "rec"})


def _classify(attr: str) -> tuple[str, str] | None:
    """("tool" | "service", zagi name) of a nixpkgs attribute, by detectors/data/nixattrs.toml."""
    table = data("nixattrs")
    base = re.sub(r"(_\d+(?:_\d+)*|\d+)$", "", attr) or attr
    for kind in ("tools", "services"):
        for cand in (attr, base):
            if cand in table[kind]:
                return kind[:-1], table[kind][cand]
    return None


def _version_of(tool: str, attr: str) -> str | None:
    """nodejs_20 -> 20, python312 -> 3.12, go_1_22 -> 1.22, php83 -> 8.3, jdk21 -> 21."""
    if m := re.search(r"_(\d+(?:_\d+)*)$", attr):
        return m.group(1).replace("_", ".")
    if tool == "python" and (m := re.search(r"python(\d)(\d+)$", attr)):
        return f"{m.group(1)}.{m.group(2)}"
    if tool == "php" and (m := re.search(r"php(\d)(\d)$", attr)):
        return f"{m.group(1)}.{m.group(2)}"
    if m := re.search(r"(?:jdk|dotnet-sdk_?)(\d+)$", attr):
        return m.group(1)
    return None


def _package_lists(ctx: Ctx, name: str, text: str) -> None:
    for m in _LIST.finditer(text):
        body_start = m.start(2)
        for a in _ATTR.finditer(m.group(2)):
            attr = a.group(1).removesuffix(".dev").removesuffix(".out")
            if attr in _NOT_PACKAGES or attr.split(".")[0] in _NOT_PACKAGES:
                continue
            line = text.count("\n", 0, body_start + a.start()) + 1
            rule = f"{m.group(1)} {a.group(1)} ({name})"
            found = _classify(attr)
            if found is None:
                ctx.system(attr, name, line, rule)
            elif found[0] == "tool":
                ctx.tool(found[1], _version_of(found[1], attr), "pin", name, line, rule,
                         rank.MIGRATION)
            else:
                ctx.service(found[1], _version_of(found[1], attr), name, line, rule,
                            rank.MIGRATION)
