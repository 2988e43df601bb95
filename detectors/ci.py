"""CI workflows: the versions a project tests with (`.github/workflows/*.yml`).

`uses: actions/setup-node@v4` with `node-version: 20` (and the other setup actions in
detectors/data/ci.toml) is evidence of kind "ci": below version files and manifest pins
(what the repo says it needs), above container images and floors (what it tests with is
tighter than "any 3.x"). A `${{ matrix.KEY }}` value takes the newest entry of that
matrix list; an input of a local composite action (`uses: ./.github/actions/setup`)
takes that action's default. Only read at the repository root; the services jobs run
are read by detectors/services.py.
"""

from __future__ import annotations

import re
from typing import Any

from detectors import rank
from detectors.base import Ctx, data
from detectors.common import constraint
from detectors.text import ParseError, load_yaml

_MATRIX = re.compile(r"^\$\{\{\s*matrix\.([\w-]+)\s*\}\}$")
_INPUT = re.compile(r"^\$\{\{\s*inputs\.([\w-]+)\s*\}\}$")
MAX_WORKFLOWS = 50


def detect(ctx: Ctx) -> None:
    if ctx.dir != "." or not ctx.has(".github/workflows"):
        return
    names = sorted(n for n in ctx.fs.listdir(".github/workflows")
                   if n.endswith((".yml", ".yaml")))[:MAX_WORKFLOWS]
    for n in names:
        _workflow(ctx, f".github/workflows/{n}")


def _load(ctx: Ctx, f: str) -> tuple[Any, dict[tuple[Any, ...], int]] | None:
    text = ctx.text(f)
    if text is None:
        return None
    try:
        return load_yaml(text)
    except ParseError as err:
        ctx.bad(f, err)
        return None


def _workflow(ctx: Ctx, f: str) -> None:
    loaded = _load(ctx, f)
    if loaded is None:
        return
    doc, lines = loaded
    jobs = doc.get("jobs") if isinstance(doc, dict) else None
    for job, spec in (jobs.items() if isinstance(jobs, dict) else []):
        if not isinstance(spec, dict):
            continue
        strategy = spec.get("strategy")
        matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
        steps = spec.get("steps")
        for i, step in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(step, dict) and isinstance(step.get("uses"), str):
                line = lines.get(("jobs", job, "steps", i, "uses"))
                _step(ctx, f, line, step, matrix if isinstance(matrix, dict) else {}, {})


def _step(ctx: Ctx, f: str, line: int | None, step: dict[str, Any],
          matrix: dict[str, Any], defaults: dict[str, str]) -> None:
    uses = str(step["uses"])
    given = step.get("with")
    inputs: dict[str, Any] = given if isinstance(given, dict) else {}
    if uses.startswith("./"):
        _composite(ctx, uses, f, line, inputs, matrix)
        return
    action = uses.split("@", 1)[0].lower()
    for entry in data("ci")["actions"].get(action, []):
        raw = inputs.get(entry["input"])
        if raw is None:
            continue
        value = _resolve(str(raw), matrix, defaults)
        if value is None:
            continue
        c = constraint(value)
        if c is None:
            continue
        request, kind, _ = c
        where = f"{uses} {entry['input']}: {raw}" + (f" -> {value}" if value != str(raw) else "")
        ctx.tool(entry["tool"], request, "ci" if kind == "pin" else "floor", f, line,
                 f"CI {where}", rank.CI if kind == "pin" else rank.MANIFEST_FLOOR)


def _resolve(raw: str, matrix: dict[str, Any], defaults: dict[str, str]) -> str | None:
    """A literal, the newest entry of a matrix list, or a composite action's default."""
    raw = raw.strip()
    if m := _MATRIX.match(raw):
        values = matrix.get(m.group(1))
        items = [str(v) for v in values] if isinstance(values, list) else []
        return _newest(items)
    if m := _INPUT.match(raw):
        return defaults.get(m.group(1))
    return None if "${{" in raw else raw


def _newest(items: list[str]) -> str | None:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", v)[:3]) or (-1,)

    usable = [v for v in items if re.match(r"^v?\d", v.strip())]
    return max(usable, key=key) if usable else None


def _composite(ctx: Ctx, uses: str, caller: str, line: int | None, inputs: dict[str, Any],
               matrix: dict[str, Any]) -> None:
    """`uses: ./.github/actions/setup`: its steps, with its input defaults (or the
    caller's `with:` values) substituted."""
    base = uses.removeprefix("./").rstrip("/")
    found = [f"{base}/{n}" for n in ("action.yml", "action.yaml") if ctx.fs.exists(f"{base}/{n}")]
    loaded = _load(ctx, found[0]) if found else None
    if loaded is None:
        return
    doc, lines = loaded
    if not isinstance(doc, dict):
        return
    got = doc.get("inputs")
    declared: dict[str, Any] = got if isinstance(got, dict) else {}
    defaults = {str(k): str(v.get("default")) for k, v in declared.items()
                if isinstance(v, dict) and v.get("default") is not None}
    for k, v in inputs.items():
        resolved = _resolve(str(v), matrix, {})
        if resolved is not None:
            defaults[str(k)] = resolved
    runs = doc.get("runs")
    steps = runs.get("steps") if isinstance(runs, dict) else None
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict) and isinstance(step.get("uses"), str) \
                and not str(step["uses"]).startswith("./"):  # no recursion into locals
            _step(ctx, found[0], lines.get(("runs", "steps", i, "uses")), step, matrix, defaults)
