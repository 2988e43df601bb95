"""History that carries the environment: `zagi log`, `diff`, `checkout`, `revert`, the git
hooks (checkout.py), and the operation log with `undo` / `op restore` (ops.py).

git stays the source of truth; everything here reads and writes it through
zagi/drivers/git.py. Above zagi.env (a checkout syncs), below the CLI.
"""

__all__ = ["changes", "checkout", "envdiff", "ops", "provenance", "root_of"]

from pathlib import Path


def root_of(start: Path) -> Path:
    """The project (the nearest .zagi/env.toml), else the git work tree's top, else start:
    history commands work in a repository before it has an env."""
    from zagi.core.layout import find_root
    from zagi.drivers import git

    found = find_root(start)
    if found is not None:
        return found
    top = git.run(["rev-parse", "--show-toplevel"], start, check=False)
    return Path(top.stdout.strip()) if top.ok and top.stdout.strip() else start.resolve()
