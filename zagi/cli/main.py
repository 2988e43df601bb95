"""The `zagi` command line: a thin typer layer over the use-cases.

One module per command or command group, named after it (`zagi sync` is
zagi/cli/sync.py, `zagi secrets ...` is zagi/cli/secrets.py); commands import their
use-case inside the function body, so `zagi --help` loads no pydantic, tomlkit or
detectors, and never import one another (shared presentation: output.py, options.py,
progress.py). Exit codes: 0 ok, 1 failure, 2 bad input or usage (see docs/cli.md).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from zagi import __version__
from zagi.cli import (
    add,
    agent,
    allow,
    cache,
    catalog,
    clone,
    deny,
    doctor,
    env,
    envs,
    gc,
    hook,
    init,
    keys,
    lock,
    publish,
    remove,
    secrets,
    shell,
    sync,
    update,
    watch,
)
from zagi.cli import run as run_cmd
from zagi.cli.options import Verbose
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
    verbose: Verbose = False,
) -> None:
    """Version control that includes the environment."""


# Commands whose own arguments may look like options (`zagi run -- make -v`).
PASSTHROUGH: dict[str, Any] = {"allow_interspersed_args": False}

app.command("init")(init.init)
app.command("add")(add.add)
app.command("remove")(remove.remove)
app.command("lock")(lock.lock)
app.command("update")(update.update)
app.command("sync")(sync.sync)
app.command("envs")(envs.envs)
app.command("gc")(gc.gc)
app.add_typer(catalog.app, name="catalog")
app.command("hook")(hook.hook)
app.command("allow")(allow.allow)
app.command("deny")(deny.deny)
app.command("env")(env.env)
app.command("run", context_settings=PASSTHROUGH)(run_cmd.run)
app.command("shell")(shell.shell)
app.command("watch")(watch.watch)
app.add_typer(secrets.app, name="secrets")
app.add_typer(keys.app, name="keys")
app.command("publish")(publish.publish)
app.command("clone")(clone.clone)
app.add_typer(cache.app, name="cache")
app.command("agent", context_settings=PASSTHROUGH)(agent.agent)
app.command("doctor")(doctor.doctor)


def run(argv: list[str]) -> int:
    from zagi.cli.output import render_error, render_internal, verbose_enabled

    # zagi's own options come before `--`; what follows belongs to the command it runs.
    own = argv[: argv.index("--")] if "--" in argv else argv
    as_json = "--json" in own
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
