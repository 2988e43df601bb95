"""`zagi agent -- CMD`: a coding agent with the env and without the secrets (zagi/env/agent.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import ProjectDir, Verbose


def agent(
    command: Annotated[list[str], typer.Argument(help="The agent (or any command) to start.")],
    net: Annotated[str, typer.Option("--net", help="host (default: the agent reaches its API) "
                                                   "or none (loopback only).")] = "host",
    pass_: Annotated[list[str] | None, typer.Option(
        "--pass", metavar="VAR", help="Give the agent this variable from your environment "
                                      "(repeatable), e.g. its own API key.")] = None,
    project: ProjectDir = Path(),
    json: Annotated[bool, typer.Option("--json", help="zagi's own errors as JSON.")] = False,
    verbose: Verbose = False,
) -> None:
    """Start a coding agent with the project's env but no access to secrets, by the kernel
    (bubblewrap): own user, mount and PID namespaces, no capabilities even for root, key
    material masked, zagi's state and the project's recipients read-only, a private /tmp,
    and an environment built from an allowlist (add a variable with --pass). `zagi run`
    inside it runs without secrets."""
    from zagi.env import agent as use
    from zagi.project import find

    use.run(find(project), command, net=net, passed=pass_ or [])
