"""`zagi commit`: git commit with provenance in a git note (zagi/history/provenance.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def commit(
    message: Annotated[str, typer.Option("-m", "--message", help="The commit message.")],
    all_files: Annotated[bool, typer.Option("-a", "--all", help="Commit all tracked changes "
                                                                "(git commit -a).")] = False,
    prompt: Annotated[str | None, typer.Option("--prompt", help="The prompt that asked for "
                                                                "this change.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="The model that made it.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="The agent that made it (default: "
                                                              "detected).")] = None,
    tests: Annotated[str | None, typer.Option("--tests", metavar="CMD", help="Run CMD in the env "
                                                                             "first; record its "
                                                                             "exit code and "
                                                                             "time.")] = None,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Commit (as git commit) and attach provenance as a git note (refs/notes/zagi): the env
    id and lock hash, the agent (given or detected: CLAUDECODE, ZAGI_AGENT, ...), prompt
    and model when given, and with --tests the command's result in the env."""
    from zagi import history
    from zagi.cli.output import console, emit_json
    from zagi.history import provenance

    res = provenance.commit(history.root_of(project), message, all_files=all_files,
                            prompt=prompt, model=model, agent=agent, tests=tests)
    if json:
        emit_json({"commit": res.sha, "note": res.note})
        return
    line = provenance.summary_of(res.note)
    console().print(f"committed {res.sha[:8]}" + (f" ({line})" if line else ""), markup=False,
                    highlight=False)
