"""zagi: version control that includes the environment.

Packages, lowest first (docs/architecture.md): core, formats, drivers, storage,
project, secrets, cache, env, cli. The top-level packages detectors, nixgen,
shellhooks and mirror sit beside them.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
