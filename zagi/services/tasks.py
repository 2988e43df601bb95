"""[tasks]: the project's named commands (`zagi task NAME`, `zagi tasks`).

A task is a command line for `sh -c`, run in the env with the project's secrets (it is
an app process), its `needs` services up first; extra arguments reach it as "$@".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zagi.core.errors import BadInput
from zagi.core.layout import Project
from zagi.core.names import did_you_mean
from zagi.formats.spec import EnvSpec, TaskSpec


def listing(spec: EnvSpec) -> list[dict[str, Any]]:
    return [{"name": n, **spec.task(n).model_dump(exclude_defaults=True)}
            for n in sorted(spec.tasks)]


def get(spec: EnvSpec, name: str, file: str) -> TaskSpec:
    if name not in spec.tasks:
        raise BadInput(f"no task {name!r} in [tasks]{did_you_mean(name, list(spec.tasks))}",
                       file=file, hint=("its tasks: " + ", ".join(sorted(spec.tasks)))
                       if spec.tasks else 'add one: [tasks] test = "pytest -q"')
    task = spec.task(name)
    for need in task.needs:
        if need not in spec.services:
            raise BadInput(f"task {name!r} needs {need!r}, which is not in [services]"
                           f"{did_you_mean(need, list(spec.services))}", file=file)
    return task


def argv(name: str, task: TaskSpec, args: list[str]) -> list[str]:
    # "$@" after the command line: `zagi task test -k foo` runs `pytest -q -k foo`.
    return ["/bin/sh", "-c", f'{task.run} "$@"', f"zagi-task-{name}", *args]


def workdir(project: Project, task: TaskSpec) -> Path:
    """The task's directory, which must stay inside the project (no symlink out)."""
    root = project.root.resolve()
    d = (root / task.cwd).resolve() if task.cwd else root
    if d != root and root not in d.parents:
        raise BadInput(f"task cwd {task.cwd!r} leads outside the project ({d})",
                       file=str(project.env_toml))
    if not d.is_dir():
        raise BadInput(f"task cwd {task.cwd!r}: no such directory", file=str(project.env_toml))
    return d
