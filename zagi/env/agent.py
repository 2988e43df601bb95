"""`zagi agent -- CMD`: a coding agent gets the project's env but not its secrets.

The boundary is the kernel's, set up by bubblewrap (zagi/drivers/sandbox.py says what
the agent sees and why bubblewrap). Nothing is decrypted on this path: the agent's
environment is built from an allowlist (the env's own variables, the small set in
zagi/core/envnames.py, and what the user names with --pass), so no secret, credential
or value derived from one can reach it, and no process it can inspect holds plaintext.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path
from typing import NoReturn

from zagi.core import layout, proc
from zagi.core.envnames import agent_may_see
from zagi.core.errors import BadInput
from zagi.core.layout import Project
from zagi.drivers import sandbox
from zagi.env.run import ready_env
from zagi.secrets.identity import identity_path, key_dirs


def agent_env(caller: dict[str, str], project_env: dict[str, str],
              passed: list[str]) -> dict[str, str]:
    """The agent's environment: the env's variables, the documented passthrough set, and
    exactly the names in `passed`."""
    for name in passed:
        if name not in caller:
            raise BadInput(f"--pass {name}: not set in this environment")
    keep = {k: v for k, v in caller.items() if agent_may_see(k) or k in passed}
    added = {k: v for k, v in project_env.items() if caller.get(k) != v}  # the activation
    out = {**keep, **added}
    out.pop("ZAGI_IDENTITY", None)  # masked anyway; never tell the agent where it is
    out["TMPDIR"] = "/tmp"  # noqa: S108 - the agent's own, private tmpfs
    out["ZAGI_AGENT"] = "1"
    return out


# Credentials under HOME an agent has no business reading: masked (an empty tmpfs, or
# /dev/null) the way the age identity is. Tools that need a login inside the agent get
# it through --pass VAR (a token), not through the user's files.
CREDENTIAL_DIRS = (".ssh", ".aws", ".gnupg", ".password-store", ".docker", ".kube", ".azure",
                   ".config/gh", ".config/gcloud", ".config/hub", ".config/cachix")
CREDENTIAL_FILES = (".netrc", ".git-credentials", ".pgpass", ".pypirc", ".npmrc",
                    ".config/git/credentials", ".my.cnf", ".s3cfg", ".boto")


def credentials(home: Path) -> tuple[list[Path], list[Path]]:
    """(directories, files) of credentials under `home`, those that exist."""
    return ([home / d for d in CREDENTIAL_DIRS if (home / d).is_dir()],
            [home / f for f in CREDENTIAL_FILES if (home / f).is_file()])


def policy(project: Project, net: str, path: str) -> sandbox.Policy:
    ident = identity_path()
    dirs = key_dirs()
    home = Path(os.environ.get("HOME", "/nonexistent"))
    cred_dirs, cred_files = credentials(home)
    # What the agent runs must still be there under its private /tmp: the PATH it gets,
    # and the Python installation zagi itself runs from (`zagi run` inside the agent).
    tools = [Path(d) for d in path.split(":") if d.startswith("/")]
    tools += [Path(sys.prefix), Path(sys.executable).resolve().parent,
              Path(__file__).resolve().parents[2]]  # zagi's own code (an editable install)
    return sandbox.Policy(
        project=project.root,
        cwd=Path.cwd(),
        mask_dirs=[*dirs, *cred_dirs],
        mask_files=([] if any(ident.parent == d for d in dirs) else [ident]) + cred_files,
        read_only=[layout.zagi_home(), *(project.root / p for p in sandbox.PROTECTED)],
        keep=[home],
        tools=tools,
        net=net,
    )


def run(project: Project, command: list[str], net: str = "host",
        passed: list[str] | None = None) -> NoReturn:
    """Exec the agent under bubblewrap; its exit status is the agent's."""
    caller = dict(os.environ)
    env = agent_env(caller, ready_env(project, caller), passed or [])
    pol = policy(project, net, env.get("PATH", ""))
    sandbox.check(pol)  # refuse, with the kernel's reason, before anything starts
    # No core dump of the agent (or of bwrap) can land in the project.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    proc.replace_process(sandbox.argv(pol, command, seccomp=sandbox.seccomp_fd()), env)
