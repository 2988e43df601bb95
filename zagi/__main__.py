"""Entry point of the `zagi` console script.

`zagi --version` is answered before anything else is imported: agents call it to
probe for zagi, and it should cost no more than starting Python.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from zagi import __version__

        sys.stdout.write(f"zagi {__version__}\n")
        raise SystemExit(0)
    from zagi.cli.main import run

    raise SystemExit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
