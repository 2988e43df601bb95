"""Conversions several detectors share: constraints to requests, images, dependency tables."""

from __future__ import annotations

import re
from typing import Any

from detectors import rank
from detectors.base import Ctx, data
from zagi.core.versions import is_request, numeric, parse_request, satisfiable
from zagi.formats.findings import Kind

_NUM = re.compile(r"^v?(\d+(?:\.\d+)*)")


def clean_version(text: str) -> str | None:
    """A version-file value as a request: "v20.11.1" -> "20.11.1"; junk -> None."""
    v = text.strip().strip("\"'")
    v = v.removeprefix("v") if re.match(r"^v\d", v) else v
    return parse_request(v).text if is_request(v) else None


def constraint(text: str) -> tuple[str, Kind, str] | None:
    """A manifest constraint -> (request, kind, note).

    A bare version or x-range is a pin ("20", "18.x"); anything with an operator is
    a floor kept as the range it states (">=18" stays ">=18": a floor is not a pin).
    npm "||" alternatives keep the last (newest) one; "A - B" becomes ">=A,<=B".
    """
    s = text.strip()
    note = ""
    if "||" in s:
        s = s.split("||")[-1].strip()
        note = " (newest alternative of ||)"
    if m := re.match(r"^v?(\d[\w.]*)\s+-\s+v?(\d[\w.]*)$", s):
        s = f">={m.group(1)},<={m.group(2)}"
    s = re.sub(r"(?<=[\d.x*])\s+(?=[<>=^~!])", ",", s)  # ">=18 <21" -> ">=18,<21"
    if s in ("", "*", "x", "latest"):
        return None
    if not is_request(s):
        return None
    req = parse_request(s)
    kind: Kind = "pin" if req.kind == "version" else "floor"
    return req.text, kind, note


def _short(version: str) -> str:
    """18.0.0 -> 18, 3.12.0 -> 3.12: the same bound in zagi's padded comparison."""
    while version.endswith(".0") and version.count(".") > 0:
        version = version[:-2]
    return version


def npm_range(text: str) -> tuple[str, Kind, str] | None:
    """An npm range (engines, devEngines, a CI node-version) as a zagi request, with npm's
    own semantics (node-semver, a port of npm's implementation): "18 - 20" is
    >=18 <21 (an X-range upper bound), "<=20" is <21, "^0.2" is <0.3; "||" keeps the
    newest alternative. A bare version or x-range is a pin ("20", "18.x")."""
    import nodesemver

    s = text.strip()
    if s.lower() in ("", "*", "x", "latest"):
        return None
    pin = re.fullmatch(r"v?(\d+(?:\.\d+){0,2})(?:\.[x*])*", s, re.IGNORECASE)
    if pin and is_request(pin.group(1)):
        return parse_request(pin.group(1)).text, "pin", ""
    try:
        sets = nodesemver.Range(s, True).set
    except (ValueError, TypeError, AttributeError):
        return None
    options = []
    for comparators in sets:
        cons = [(c.operator or "", str(c.semver)) for c in comparators
                if getattr(c.semver, "major", None) is not None]
        if cons:
            options.append(cons)
    if not options:
        return None
    newest = max(options, key=lambda cs: max(numeric(v) for _, v in cs))
    req = ",".join(f"{op or '=='}{_short(v.split('-', 1)[0])}" for op, v in newest)
    if not is_request(req) or not satisfiable(req):
        return None
    note = " (newest alternative of ||)" if len(options) > 1 else ""
    return parse_request(req).text, "floor", note


def _padded(v: str) -> str:
    """PEP 440 pads with zeros: ==3.12 is 3.12.0; zagi's "3.12.0" is that version."""
    parts = v.split(".")
    return ".".join([*parts, "0", "0"][:max(3, len(parts))])


def pep440(text: str) -> tuple[str, Kind, str] | None:
    """A PEP 440 specifier set (requires-python, [tool.uv] required-version) as a zagi
    request, parsed by `packaging` and translated with PEP 440's meaning: "==3.12" is
    3.12.0 exactly, "==3.12.*" any 3.12, "!=2.1" excludes 2.1.0 (not 2.1.5), "===" is
    exact; >=, >, <=, <, ~= mean the same in zagi."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    order = {">=": 0, ">": 0, "~=": 1, "==": 1, "===": 1, "<=": 2, "<": 2, "!=": 3}
    try:
        specs = sorted(SpecifierSet(text.strip()), key=lambda sp: (order[sp.operator], str(sp)))
    except (InvalidSpecifier, KeyError):
        return None
    if not specs:
        return None
    parts: list[str] = []
    for sp in specs:
        op, v = sp.operator, sp.version
        if op == "==" and v.endswith(".*"):
            parts.append(f"=={v[:-2]}")
        elif op in ("==", "==="):
            parts.append(f"=={_padded(v)}")
        elif op == "!=" and v.endswith(".*"):
            parts.append(f"!={v[:-2]}")
        elif op == "!=":
            parts.append(f"!={_padded(v)}")
        else:
            parts.append(f"{op}{v}")
    req = ",".join(parts)
    if len(parts) == 1 and parts[0].startswith("=="):
        req = parts[0][2:]  # one exact (or prefix) version: a pin
    if not is_request(req) or not satisfiable(req):
        return None
    return parse_request(req).text, "pin" if len(parts) == 1 and parts[0].startswith("==") \
        else "floor", ""


def kind_of(request: str) -> Kind:
    """A lockfile-implied request: ">=9" is a floor, "1" a pin."""
    return "floor" if request.startswith((">", "^", "~")) else "pin"


def image_ref(ref: str) -> tuple[str, str | None]:
    """"docker.io/library/node:20-alpine@sha256:..." -> ("node", "20-alpine")."""
    ref = ref.split("@", 1)[0]
    name, tag = ref, None
    if ":" in ref.rsplit("/", 1)[-1]:
        name, tag = ref.rsplit(":", 1)
    for prefix in ("docker.io/", "index.docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return name.lower(), tag


def lookup_image(name: str, table: str) -> str | None:
    images: dict[str, str] = data("images")[table]
    return images.get(name) or images.get(name.rsplit("/", 1)[-1])


def tag_version(name: str, tag: str | None) -> str | None:
    """The version a tag names: "17-alpine" -> "17", "lts-slim" -> "lts", "latest" -> None."""
    if not tag:
        return None
    devcontainer = name.startswith(data("images")["devcontainer"]["prefix"])
    if devcontainer and (m := re.match(r"^\d+-(\d+(?:\.\d+)*)", tag)):  # "1-3.12-bookworm"
        return m.group(1)
    if m := _NUM.match(tag):
        return m.group(1)
    if tag.split("-")[0] in ("lts", "stable"):
        return tag.split("-")[0]
    return None


def image_tool(ctx: Ctx, tool: str, version: str | None, file: str, line: int | None,
               rule: str, rnk: int, tag: str | None = None) -> None:
    """A tool named by a container image: a pin at container rank, except a major-only tag
    of a tool told apart by major.minor (python:3), which is a weak floor
    (rank.VAGUE_IMAGE): a requires-python floor or a CI pin says more. Elixir's tags
    carry their OTP too (elixir:1.16-otp-26): that is erlang's version."""
    if tool == "elixir" and tag and (m := re.search(r"-otp-(\d+(?:\.\d+)*)", tag)):
        ctx.tool("erlang", m.group(1), "pin", file, line, f"{rule} (its OTP)", rnk)
    if version and version.isdigit() and tool in data("images")["vague"]["major_only"]:
        ctx.tool(tool, version, "floor", file, line, f"{rule} (major only: vague)",
                 rank.VAGUE_IMAGE)
        return
    ctx.tool(tool, version, "pin" if version else "default", file, line, rule, rnk)


def system_from_deps(ctx: Ctx, ecosystem: str, deps: dict[str, int | None], file: str) -> None:
    """Dependency names -> system packages (exact names) and service suggestions."""
    libs: dict[str, list[str]] = data("syslibs").get(ecosystem, {})
    clients: dict[str, str] = data("syslibs").get("clients", {}).get(ecosystem, {})
    for dep, line in sorted(deps.items()):
        for lib in libs.get(dep, []):
            ctx.system(lib, file, line, f"{ecosystem} dependency {dep}")
        if svc := clients.get(dep):
            ctx.suggestions.append((svc, f"{ctx.rel(file)}: {dep} is a {svc} client; if the "
                                         f"project needs a local {svc}, add [services] {svc}"))


def map_system_name(raw: str) -> tuple[list[str], bool]:
    """A distro package name -> (zagi names, known?). Ignored plumbing -> ([], True).

    The table (detectors/data/system.toml) first; then Debian's and Alpine's naming rules
    (`lib<name><abi>-dev`, `<name>-dev`, `-devel`, `lib<name>`) when they lead to a name
    zagi knows, so libcurl4-openssl-dev is curl and libvips is vips."""
    name = re.split(r"[=<>]", raw, maxsplit=1)[0].strip().lower()  # "libpq-dev=15.*"
    table = data("system")
    if name in table["ignore"]["names"]:
        return [], True
    mapped: list[str] | None = table["packages"].get(name)
    if mapped is not None:
        return mapped, True
    known = {n for names in table["packages"].values() for n in names}
    for cand in _stems(name):
        if cand in table["packages"]:
            return table["packages"][cand], True
        if cand in known:
            return [cand], True
    return [name], False


def _stems(name: str) -> list[str]:
    """libcurl4-openssl-dev -> [libcurl4-openssl, libcurl, curl, ...]: candidates, longest
    first, by stripping the suffixes and ABI numbers distributions add."""
    out: list[str] = []
    base = re.sub(r"-(dev|devel|headers|static)$", "", name)
    base = re.sub(r"-(openssl|gnutls|nss)$", "", base)
    for cand in (base, re.sub(r"[\d.]+$", "", base).rstrip("-"),
                 re.sub(r"-[\d.]+$", "", base)):
        for c in (cand, cand.removeprefix("lib")):
            if c and c not in out and c != name:
                out.append(c)
    return out


SCHEMES = {
    "postgres": "postgres", "postgresql": "postgres", "postgis": "postgres",
    "mysql": "mysql", "mysql2": "mysql", "mariadb": "mariadb", "redis": "redis",
    "rediss": "redis", "mongodb": "mongodb", "amqp": "rabbitmq", "amqps": "rabbitmq",
    "memcached": "memcached", "nats": "nats",
}  # fmt: skip
_URL_VARS = re.compile(r"^(?:\w+_)?(?:DATABASE|DB|REDIS|CACHE|QUEUE|BROKER|MONGO\w*|AMQP|"
                       r"RABBITMQ|CELERY_BROKER)_?URL$")

def url_services(ctx: Ctx, env: dict[str, str], file: str,
                 lines: dict[tuple[Any, ...], int] | None = None,
                 base: tuple[Any, ...] = ()) -> None:
    for key, val in env.items():
        m = re.match(r"^([a-z0-9+]+)://", val.strip().strip("\"'"))
        if not m or not _URL_VARS.match(key):
            continue
        svc = SCHEMES.get(m.group(1).split("+")[0])
        if svc:
            line = lines.get((*base, key)) if lines else None
            ctx.service(svc, None, file, line, f"{key} scheme {m.group(1)}://", rank.URL_SCHEME)
