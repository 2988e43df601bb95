"""`zagi agent -- CMD`: a coding agent gets the project's env but not its secrets.

The boundary is the kernel's (zagi/drivers/sandbox.py: namespaces and masks), and the
process is started by the one chokepoint (zagi/core/proc.py::run_isolated). Here: what
the agent's environment holds, and which directories it must not see.
"""

from __future__ import annotations

from zagi.core import proc
from zagi.core.layout import Project
from zagi.drivers import sandbox
from zagi.env.run import ready_env
from zagi.secrets.check import MIN_CHECKED_LEN
from zagi.secrets.for_run import values_if_readable
from zagi.secrets.identity import key_dirs


def agent_env(project: Project, env: dict[str, str]) -> dict[str, str]:
    """The agent's environment: the project's env, minus every secret by name and value."""
    values = values_if_readable(project)
    secret_values = {v for v in values.values() if len(v) >= MIN_CHECKED_LEN}
    out = {k: v for k, v in env.items()
           if k not in values and v not in secret_values and k != "ZAGI_IDENTITY"}
    out["ZAGI_AGENT"] = "1"
    return out


def run(project: Project, command: list[str]) -> int:
    """Start `command` isolated; its exit code."""
    env = agent_env(project, ready_env(project))
    masks = key_dirs()
    return proc.run_isolated(command, env, setup=lambda: sandbox.enter(masks),
                             in_namespace=sandbox.mount_proc)
