"""flake.nix / shell.nix / default.nix: the repo describes its own env in Nix.

Recorded in env.toml's [nix] with its evidence; zagi does not build these envs yet (it
locks the tools detection finds), and says so rather than pretending to prefer them."""

from __future__ import annotations

from detectors.base import Ctx

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
