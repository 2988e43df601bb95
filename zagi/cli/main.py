"""The `zagi` command line: a thin typer layer over the use-cases.

One module per command or command group, named after it (`zagi sync` is
zagi/cli/sync.py, `zagi secrets ...` is zagi/cli/secrets.py); commands import their
use-case inside the function body, so `zagi --help` loads no pydantic, tomlkit or
detectors, and never import one another (shared presentation: output.py, options.py,
progress.py). Exit codes: 0 ok, 1 failure, 2 bad input or usage (see docs/cli.md).
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import typer

from zagi import __version__
from zagi.cli.options import Verbose
from zagi.core.errors import EXIT_BAD_INPUT, EXIT_FAILURE, ZagiError


def _version(value: bool) -> None:
    if value:
        typer.echo(f"zagi {__version__}")
        raise typer.Exit(0)


def _root(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version,
                                          is_eager=True, help="Print the version and exit.")]
    = False,
    verbose: Verbose = False,
) -> None:
    """Version control that includes the environment."""


# Commands whose own arguments may look like options (`zagi run -- make -v`).
PASSTHROUGH: dict[str, Any] = {"allow_interspersed_args": False}

# `zagi NAME` -> (module in zagi/cli/, function, context settings); groups: the module's app.
COMMANDS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "init": ("init", "init", None), "add": ("add", "add", None),
    "remove": ("remove", "remove", None), "lock": ("lock", "lock", None),
    "update": ("update", "update", None), "sync": ("sync", "sync", None),
    "envs": ("envs", "envs", None), "gc": ("gc", "gc", None), "hook": ("hook", "hook", None),
    "allow": ("allow", "allow", None), "deny": ("deny", "deny", None),
    "env": ("env", "env", None), "run": ("run", "run", PASSTHROUGH),
    "shell": ("shell", "shell", None), "watch": ("watch", "watch", None),
    "publish": ("publish", "publish", None), "clone": ("clone", "clone", None),
    "agent": ("agent", "agent", PASSTHROUGH), "doctor": ("doctor", "doctor", None),
    "log": ("log", "log", None), "diff": ("diff", "diff", None),
    "checkout": ("checkout", "checkout", None), "revert": ("revert", "revert", None),
    "undo": ("undo", "undo", None), "commit": ("commit", "commit", None),
    "up": ("up", "up", None), "down": ("down", "down", None), "push": ("push", "push", None),
    "task": ("task", "task", PASSTHROUGH), "tasks": ("tasks", "tasks", None),
}
GROUPS = ("catalog", "secrets", "keys", "cache", "op", "services", "server", "mirror")
ORDER = ("init", "add", "remove", "lock", "update", "sync", "envs", "gc", "catalog", "hook",
         "allow", "deny", "env", "run", "shell", "watch", "secrets", "keys", "publish", "clone",
         "push", "server", "mirror", "cache", "log", "diff", "checkout", "revert", "undo", "op",
         "commit", "up", "down", "services", "task", "tasks", "agent", "doctor")
# Commands that may change a project's .zagi/: each run is an operation in its log
# (zagi/history/ops.py) when it did change something.
RECORDED = frozenset({"init", "add", "remove", "update", "lock", "sync", "checkout", "revert",
                      "secrets", "undo", "op"})


def build(only: str | None = None) -> typer.Typer:
    """The typer app; with `only`, just that command under the same root, so a command's
    run imports and builds one command's parser instead of all of them (typer spends
    ~2 ms a command turning signatures into parsers; bench/startup.py)."""
    import importlib

    app = typer.Typer(
        name="zagi",
        help="Version control that includes the environment: clone a repo, get a project "
             "that runs.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,  # tracebacks with locals could leak secrets
        # Plain help: half the start-up cost of rich's boxes (bench/startup.py), and plain
        # text is what agents parse best. Command output still uses rich where it helps.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    for name in (only,) if only else ORDER:
        module = importlib.import_module(f"zagi.cli.{COMMANDS[name][0] if name in COMMANDS else name}")
        if name in GROUPS:
            app.add_typer(module.app, name=name)
        else:
            _, func, ctx = COMMANDS[name]
            app.command(name, context_settings=ctx)(getattr(module, func))
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole CLI, for tests and docs (`run` builds only what it needs)
        return build()
    raise AttributeError(name)


def _recording(name: str | None, own: list[str]) -> contextlib.AbstractContextManager[None]:
    """The operation-log recorder for a command that may change a project, else nothing."""
    if name not in RECORDED:
        return contextlib.nullcontext()
    from pathlib import Path

    from zagi.core.layout import find_root

    start = Path(".")
    for i, arg in enumerate(own):
        if arg in ("-C", "--project") and i + 1 < len(own):
            start = Path(own[i + 1])
        elif arg.startswith("--project="):
            start = Path(arg.partition("=")[2])
    if name == "init":  # `zagi init [PATH]`: the repository is the positional argument
        after = own[own.index("init") + 1:]
        paths = [a for j, a in enumerate(after) if not a.startswith("-")
                 and (j == 0 or after[j - 1] != "--with")]
        start = Path(paths[0]) if paths else start
    root = find_root(start) if start.is_dir() else None
    if root is None and name == "init" and start.is_dir():
        root = start.resolve()  # init makes the project: its "before" is no .zagi/
    if root is None:
        return contextlib.nullcontext()
    from zagi.history import ops

    return ops.recorded(root, own)


def _command_of(argv: list[str]) -> str | None:
    """The command `argv` runs, when the parse cannot depend on the others; else None."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS or arg in GROUPS else None
        if arg not in ("-v", "--verbose"):
            return None  # --version, --help, a typo: the whole app answers
    return None


def run(argv: list[str]) -> int:
    from zagi.cli.output import render_error, render_internal, verbose_enabled

    # zagi's own options come before `--`; what follows belongs to the command it runs.
    own = argv[: argv.index("--")] if "--" in argv else argv
    as_json = "--json" in own
    name = _command_of(argv)
    cmd = typer.main.get_command(build(name))
    try:
        with _recording(name, own):
            rv = cmd.main(args=argv, prog_name="zagi", standalone_mode=False)
    except ZagiError as err:
        render_error(err, as_json)
        return err.exit_code
    except typer.Exit as ex:
        return ex.exit_code
    except typer.Abort:
        return EXIT_FAILURE
    except typer.TyperException as exc:  # click usage errors: the click way, or as JSON
        code = int(getattr(exc, "exit_code", EXIT_BAD_INPUT))
        if as_json:
            from zagi.cli.output import emit_json

            emit_json({"error": exc.format_message() if hasattr(exc, "format_message")
                       else str(exc), "exit_code": code, "kind": "UsageError"})
            return code
        show = getattr(exc, "show", None)
        if show:
            show()
        return code
    except KeyboardInterrupt:
        return 130
    except PermissionError as exc:  # the machine's permissions, not a zagi bug
        render_error(ZagiError(f"permission denied: {exc.filename or exc}",
                               hint="check the owner and mode of that path"), as_json)
        return EXIT_FAILURE
    except Exception as exc:
        render_internal(exc, as_json, verbose_enabled() or "-v" in own or "--verbose" in own)
        return EXIT_FAILURE
    return rv if isinstance(rv, int) else 0
