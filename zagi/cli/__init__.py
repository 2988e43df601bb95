"""The command line, presentation only: one module per command or group, named after
it (main.py wires them); output.py, options.py and progress.py are shared."""

__all__ = [
    "add", "agent", "allow", "cache", "catalog", "clone", "deny", "doctor", "env", "envs", "gc",
    "hook", "init", "keys", "lock", "main", "options", "output", "progress", "publish", "remove",
    "run", "secrets", "shell", "sync", "update", "watch"
]
