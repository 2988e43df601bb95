"""Services the project talks to: ORM configs, example env files, CI service containers.

Compose images are read in docker.py (they carry versions); this module covers
the weaker signals, each with its own rank (detectors/rank.py).
"""

from __future__ import annotations

import ast
import re
from typing import Any

from detectors import docker, rank
from detectors.base import Ctx
from detectors.common import url_services
from detectors.text import ParseError, load_yaml

ADAPTERS = {  # ORM names -> service; None = embedded database, no service
    "postgresql": "postgres", "postgres": "postgres", "postgis": "postgres",
    "mysql": "mysql", "mysql2": "mysql", "trilogy": "mysql", "mariadb": "mariadb",
    "mongodb": "mongodb", "sqlite": None, "sqlite3": None, "pgsql": "postgres",
    "spatialite": None, "cockroachdb": "postgres",
}  # fmt: skip
ENV_EXAMPLES = (".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults")


def detect(ctx: Ctx) -> None:
    _prisma(ctx)
    if ctx.has("config/database.yml"):
        _rails(ctx)
    if "manage.py" in ctx.names:
        _django(ctx)
    for name in ENV_EXAMPLES:
        if name in ctx.names:
            _env_example(ctx, name)
    if ctx.dir == "." and ctx.has(".github/workflows"):
        _workflows(ctx)



def _adapter(ctx: Ctx, adapter: str, file: str, line: int | None, rule: str) -> None:
    a = adapter.lower()
    if a not in ADAPTERS:
        ctx.warn(f"{ctx.rel(file)}:{line}: database {adapter!r} is not a service zagi knows")
        return
    svc = ADAPTERS[a]
    if svc:
        ctx.service(svc, None, file, line, rule, rank.ORM_CONFIG)


def _prisma(ctx: Ctx) -> None:
    files = [f for f in ("prisma/schema.prisma", "schema.prisma") if ctx.has(f)]
    files += [f"prisma/schema/{n}" for n in ctx.fs.listdir(ctx.rel("prisma/schema"))
              if n.endswith(".prisma")]
    for f in files:
        text = ctx.text(f)
        if text is None:
            continue
        clean = "\n".join(line.split("//", 1)[0] for line in text.splitlines())
        for block in re.finditer(r"\bdatasource\s+\w+\s*\{([^}]*)\}", clean):
            m = re.search(r'\bprovider\s*=\s*"(\w+)"', block.group(1))
            if m:
                ctx.mark("prisma", f)
                line = clean.count("\n", 0, block.start(1) + m.start()) + 1
                _adapter(ctx, m.group(1), f, line, f"Prisma datasource provider {m.group(1)!r}")


def _rails(ctx: Ctx) -> None:
    f = "config/database.yml"
    text = ctx.text(f)
    if text is None:
        return
    # ERB tags are Ruby code: never evaluated, replaced by a placeholder for YAML.
    clean = re.sub(r"<%.*?%>", "erb", text, flags=re.DOTALL)
    try:
        doc, lines = load_yaml(clean)
    except ParseError as err:
        ctx.bad(f, err)
        return
    ctx.mark("rails", f)
    seen: set[str] = set()
    for env, cfg in (doc.items() if isinstance(doc, dict) else []):
        cfgs = [cfg] + ([v for v in cfg.values() if isinstance(v, dict)]
                        if isinstance(cfg, dict) else [])
        for c in cfgs:
            ad = c.get("adapter") if isinstance(c, dict) else None
            if isinstance(ad, str) and ad not in seen:
                seen.add(ad)
                _adapter(ctx, ad, f, lines.get((env, "adapter")), f"database.yml adapter {ad!r}")


def _django(ctx: Ctx) -> None:
    candidates: list[str] = [n for n in ("settings.py",) if n in ctx.names]
    for sub in sorted(ctx.names):
        if sub.startswith(".") or not ctx.fs.is_dir(ctx.rel(sub)):
            continue
        inner = ctx.fs.listdir(ctx.rel(sub))
        if "settings.py" in inner:
            candidates.append(f"{sub}/settings.py")
        if "settings" in inner:
            candidates += [f"{sub}/settings/{n}" for n in ctx.fs.listdir(ctx.rel(f"{sub}/settings"))
                           if n.endswith(".py")]
    for f in candidates:
        text = ctx.text(f)
        if text is None:
            continue
        try:
            tree = ast.parse(text)  # parsing only: nothing in the file is executed
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            ctx.warn(f"{ctx.rel(f)}: not valid Python; ignored")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                m = re.fullmatch(r"django(?:\.contrib\.gis)?\.db\.backends\.(\w+)", node.value)
                if m:
                    ctx.mark("django", f)
                    _adapter(ctx, m.group(1), f, node.lineno, f"Django ENGINE {node.value}")


def _env_example(ctx: Ctx, name: str) -> None:
    text = ctx.text(name)
    if text is None:
        return
    env: dict[str, str] = {}
    lines: dict[tuple[Any, ...], int] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        m = re.match(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=\s*(.*)$", raw)
        if m:
            env[m.group(1)] = m.group(2).strip().strip("\"'")
            lines[(m.group(1),)] = n
    url_services(ctx, env, name, lines)
    conn = env.get("DB_CONNECTION")
    if conn:
        _adapter(ctx, conn, name, lines.get(("DB_CONNECTION",)), f"DB_CONNECTION={conn}")


def _workflows(ctx: Ctx) -> None:
    for n in ctx.fs.listdir(".github/workflows"):
        if not n.endswith((".yml", ".yaml")):
            continue
        f = f".github/workflows/{n}"
        text = ctx.text(f)
        if text is None:
            continue
        try:
            doc, lines = load_yaml(text)
        except ParseError as err:
            ctx.bad(f, err)
            continue
        jobs = doc.get("jobs") if isinstance(doc, dict) else None
        for job, spec in (jobs.items() if isinstance(jobs, dict) else []):
            svcs = spec.get("services") if isinstance(spec, dict) else None
            for sname, svc in (svcs.items() if isinstance(svcs, dict) else []):
                image = svc.get("image") if isinstance(svc, dict) else svc
                if isinstance(image, str):
                    docker.service_image(ctx, image, f, lines.get(("jobs", job, "services", sname)),
                                         f"CI job {job} service {sname}: {image}",
                                         rank.CI_SERVICE)
