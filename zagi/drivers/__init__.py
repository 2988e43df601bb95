"""The programs zagi drives, each through one module: nix (THE Nix driver), git (THE git
driver), sandbox (the kernel calls that isolate `zagi agent`)."""

__all__ = ["git", "nix", "sandbox"]
