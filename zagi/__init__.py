"""zagi: version control that includes the environment.

Packages, lowest first (docs/architecture.md): core, formats, drivers, storage,
project, secrets, cache, env, cli. The top-level packages detectors, nixgen,
shellhooks and mirror sit beside them.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"

# httpx's package import pulls in its command-line tool (click, rich.syntax, pygments:
# ~50 ms, half of `import httpx`) whenever those are installed; zagi never uses it, and
# `zagi clone` from an http(s) cache would pay it. A None entry makes that one import
# fail, which httpx catches (its `main` then only says the CLI is missing).
import sys as _sys

_sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
