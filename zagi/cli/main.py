"""The `zagi` command line: a thin typer layer over zagi.app.

Commands live one module per group (cmd_*.py) and import their use-case inside the
function body, so `zagi --help` loads no pydantic, tomlkit or detectors.
Exit codes: 0 ok, 1 failure, 2 bad input or usage (see docs/cli.md).
"""

from __future__ import annotations

from typing import Annotated

import typer

from zagi import __version__
from zagi.cli import (
    cmd_cache,
    cmd_catalog,
    cmd_doctor,
    cmd_edit,
    cmd_env,
    cmd_init,
    cmd_secrets,
    cmd_shell,
)
from zagi.core.errors import EXIT_BAD_INPUT, EXIT_FAILURE, ZagiError

app = typer.Typer(
    name="zagi",
    help="Version control that includes the environment: clone a repo, get a project that runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # tracebacks with locals could leak secrets
    # Plain help: half the start-up cost of rich's boxes (bench/startup.py), and plain
    # text is what agents parse best. Command output still uses rich where it helps.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"zagi {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version,
                                          is_eager=True, help="Print the version and exit.")]
    = False,
) -> None:
    """Version control that includes the environment."""


app.command("init")(cmd_init.init)
app.command("add")(cmd_edit.add)
app.command("remove")(cmd_edit.remove)
app.command("lock")(cmd_env.lock)
app.command("sync")(cmd_env.sync)
app.command("envs")(cmd_env.envs)
app.command("gc")(cmd_env.gc)
app.add_typer(cmd_catalog.app, name="catalog")
app.command("hook")(cmd_shell.hook)
app.command("allow")(cmd_shell.allow)
app.command("deny")(cmd_shell.deny)
app.command("env")(cmd_shell.env)
app.command("run", context_settings={"allow_interspersed_args": False})(cmd_shell.run)
app.command("shell")(cmd_shell.shell)
app.command("watch")(cmd_shell.watch)
app.add_typer(cmd_secrets.app, name="secrets")
app.add_typer(cmd_cache.keys_app, name="keys")
app.command("publish")(cmd_cache.publish)
app.command("clone")(cmd_cache.clone)
app.add_typer(cmd_cache.cache_app, name="cache")
app.command("agent", context_settings={"allow_interspersed_args": False})(cmd_secrets.agent)
app.command("doctor")(cmd_doctor.doctor)


def run(argv: list[str]) -> int:
    from zagi.cli.output import render_error, render_internal

    as_json = "--json" in argv
    verbose = "-v" in argv or "--verbose" in argv
    cmd = typer.main.get_command(app)
    try:
        rv = cmd.main(args=argv, prog_name="zagi", standalone_mode=False)
    except ZagiError as err:
        render_error(err, as_json)
        return err.exit_code
    except typer.Exit as ex:
        return ex.exit_code
    except typer.Abort:
        return EXIT_FAILURE
    except typer.TyperException as exc:  # click usage errors: show them the click way
        show = getattr(exc, "show", None)
        if show:
            show()
        return int(getattr(exc, "exit_code", EXIT_BAD_INPUT))
    except KeyboardInterrupt:
        return 130
    except PermissionError as exc:  # the machine's permissions, not a zagi bug
        render_error(ZagiError(f"permission denied: {exc.filename or exc}",
                               hint="check the owner and mode of that path"), as_json)
        return EXIT_FAILURE
    except Exception as exc:
        render_internal(exc, as_json, verbose)
        return EXIT_FAILURE
    return rv if isinstance(rv, int) else 0
