"""Which environment variables a project may set, and which a sandboxed agent may see.

One policy, checked wherever a name arrives: env.toml's [env] (zagi/formats/spec.py),
the lock's env (zagi/formats/lockfile.py), and the activation data zagi reads back
from $ZAGI_HOME before applying it (zagi/env/fastsync.py), so a value that was
refused once cannot come back through another file.

A project's [env] configures the project's tools once the user has allowed it; it may
never set a variable that makes the user's shell, git, the dynamic loader, an
interpreter or zagi itself run something else or look elsewhere. Stdlib only.
"""

from __future__ import annotations

__all__ = ["AGENT_PASSTHROUGH", "agent_may_see", "reserved_reason"]

# Names that run code or redirect lookups in the shell, git, the loader or zagi.
_EXACT = frozenset({
    # managed by the env's activation or describing the user
    "PATH", "PKG_CONFIG_PATH", "CPATH", "LIBRARY_PATH", "MANPATH", "HOME", "SHELL", "USER",
    "LOGNAME",
    # shells run or read these
    "PROMPT_COMMAND", "PS0", "PS1", "PS2", "PS3", "PS4", "PROMPT", "RPROMPT", "RPS1", "SPROMPT",
    "BASH_ENV", "ENV", "ZDOTDIR", "SHELLOPTS", "BASHOPTS", "IFS", "CDPATH", "FPATH",
    "HISTFILE", "INPUTRC", "TERMINFO",
    # programs that other programs start
    "EDITOR", "VISUAL", "PAGER", "MANPAGER", "BROWSER", "LESSOPEN", "LESSCLOSE",
    "SUDO_ASKPASS", "SSH_ASKPASS", "SSH_AUTH_SOCK",
    # interpreters' own hooks
    "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONEXECUTABLE",
    "PYTHONBREAKPOINT", "PYTHONPLATLIBDIR", "PYTHONWARNINGS", "PYTHONINSPECT",
    "NODE_OPTIONS", "NODE_PATH", "RUBYOPT", "RUBYLIB", "PERLLIB",
    "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
    # the libc
    "GCONV_PATH", "GLIBC_TUNABLES", "HOSTALIASES", "LOCPATH", "NLSPATH", "MALLOC_CONF",
    # where zagi, Nix and the user's tools find their config and keys
    "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "GNUPGHOME",
})  # fmt: skip
_PREFIXES = (
    "LD_", "DYLD_",            # the dynamic loader (LD_PRELOAD, LD_AUDIT, DYLD_INSERT_LIBRARIES)
    "GIT_",                    # GIT_CONFIG_COUNT/KEY_n/VALUE_n (core.fsmonitor), GIT_SSH_COMMAND...
    "PERL5",                   # PERL5OPT, PERL5LIB
    "NPM_CONFIG_",             # npm's script-shell, node-options
    "BASH_FUNC_",              # exported shell functions
    "NIX_",                    # NIX_CONFIG, NIX_REMOTE, NIX_PATH
    "ZAGI_", "_ZAGI",          # zagi's own settings and the hooks' bookkeeping
)


def reserved_reason(name: str) -> str | None:
    """Why a project may not set `name`, or None when it may."""
    if name in _EXACT or name.startswith(_PREFIXES):
        return ("this variable can run code or redirect lookups in your shell, git, the "
                "loader, an interpreter or zagi, or is managed by zagi; [env] may not set it")
    return None


# What a `zagi agent` sees of the caller's environment, besides the env's own variables
# and what `--pass VAR` names: enough for a terminal program and for zagi inside it,
# never a credential (AWS_*, *_TOKEN, *_KEY stay outside unless passed by name).
AGENT_PASSTHROUGH = frozenset({
    "HOME", "USER", "LOGNAME", "SHELL", "PATH", "TERM", "COLORTERM", "TERM_PROGRAM",
    "LANG", "LANGUAGE", "TZ", "TMPDIR", "NO_COLOR", "COLUMNS", "LINES", "EDITOR", "VISUAL",
    "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
    "ZAGI_HOME", "ZAGI_NIXPKGS", "ZAGI_PROMPT_VARS", "NIX_REMOTE", "NIX_DAEMON_SOCKET_PATH",
})  # fmt: skip


def agent_may_see(name: str) -> bool:
    return name in AGENT_PASSTHROUGH or name.startswith("LC_")


# Every variable a service may export (zagi/services/kinds.py sets them; the activation
# re-check, zagi/env/state.py, allows only these). Here, stdlib-only, because the fast
# `zagi run` reads them on every call.
SERVICE_VARS = frozenset({
    "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "POSTGRES_URL", "MYSQL_HOST",
    "MYSQL_TCP_PORT", "MYSQL_UNIX_PORT", "MYSQL_URL", "REDIS_URL", "MEMCACHED_URL",
    "MEMCACHE_SERVERS", "DATABASE_URL",
})
