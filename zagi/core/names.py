"""Canonical names: the keys of [tools] and [services] and of every --json output."""

from __future__ import annotations

import difflib

TOOLS: tuple[str, ...] = (
    "node", "bun", "deno", "npm", "pnpm", "yarn",
    "python", "uv", "poetry", "pdm", "pipenv", "pip",
    "rust", "go", "zig",
    "ruby", "bundler", "php", "composer",
    "java", "gradle", "maven",
    "elixir", "erlang", "dotnet", "swift", "r",
)  # fmt: skip

SERVICES: tuple[str, ...] = (
    "postgres", "mysql", "mariadb", "redis", "valkey", "mongodb",
    "rabbitmq", "memcached", "elasticsearch", "opensearch", "minio",
    "kafka", "clickhouse", "nats",
)  # fmt: skip


def did_you_mean(word: str, choices: tuple[str, ...] | list[str] | set[str]) -> str:
    """' (did you mean "tools"?)' or '' — appended to an error message."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""
