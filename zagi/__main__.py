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
    if sys.argv[1:2] == ["sync"]:
        # The cached case must not start Nix or import the CLI framework (bench/sync.py).
        import time

        from zagi.env.fastsync import try_cached

        rc = try_cached(sys.argv[1:], time.perf_counter())
        if rc is not None:
            raise SystemExit(rc)
    if sys.argv[1:2] == ["up"]:
        # Starting a server must not wait for the CLI framework (bench/services.py).
        from zagi.env.fastup import try_up

        rc = try_up(sys.argv[1:])
        if rc is not None:
            raise SystemExit(rc)
    if sys.argv[1:2] == ["run"]:
        from zagi.env.fastsync import try_run

        try_run(sys.argv[1:])  # execs the command when the env is ready; else the CLI syncs
    from zagi.cli.main import run

    raise SystemExit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
