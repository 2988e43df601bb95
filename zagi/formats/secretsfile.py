"""The plaintext inside `.zagi/secrets.enc` (the age layer is zagi/secrets/store.py).

One `NAME=value` per line; zagi writes values JSON-quoted (`API_KEY="sk_..."`, so
newlines survive); unquoted values, blank lines, `#` comments and `export ` prefixes
are read too, as a user might write with `age`. Errors name lines and secret names,
never values.
"""

from __future__ import annotations

import json
import re

from zagi.core.errors import BadInput
from zagi.core.layout import SECRETS_FILE

__all__ = ["NAME", "parse_plaintext", "render_plaintext"]

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def parse_plaintext(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    # Only "\n" ends a line: splitlines() would also split at U+0085 or U+2028 in a value.
    for n, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(raw)
        if not m:
            raise BadInput(f"line {n} of the decrypted secrets is not NAME=value", file=SECRETS_FILE)
        value = m.group(2).strip()
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise BadInput(f"secret {m.group(1)}: the quoted value on line {n} is not "
                               "valid (expected a JSON string)", file=SECRETS_FILE) from None
        elif value[:1] == "'" and value.endswith("'") and len(value) > 1:
            value = value[1:-1]
        if "\0" in value:  # no process environment can carry it: every `zagi run` would fail
            raise BadInput(f"secret {m.group(1)} contains a NUL byte, which no environment "
                           "variable can hold", file=SECRETS_FILE)
        out[m.group(1)] = value
    return out


def render_plaintext(secrets: dict[str, str]) -> bytes:
    lines = ["# zagi secrets: NAME=value, values JSON-quoted"]
    lines += [f"{k}={json.dumps(v)}" for k, v in sorted(secrets.items())]  # ASCII-only lines
    return ("\n".join(lines) + "\n").encode()
