"""Dockerfile and compose files, parsed, never built or run.

Dockerfile: FROM images -> tools (every stage: build stages tell the tools, the
last stage the runtime), RUN apt-get/apk/dnf installs -> system packages, ENV of
the final stage -> [env] candidates. Compose: service images -> services.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from detectors import rank
from detectors.base import Ctx
from detectors.common import (
    image_ref,
    image_tool,
    lookup_image,
    map_system_name,
    tag_version,
    url_services,
)
from detectors.text import ParseError, load_yaml

COMPOSE = re.compile(r"^(docker-)?compose(\.[\w-]+)?\.ya?ml$")
DOCKERFILE = re.compile(r"^(Dockerfile|Containerfile)(\.[\w-]+)?$|^[\w-]+\.Dockerfile$")
_SECRETISH = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE", re.IGNORECASE)
_INSTALL = {"apt-get": "install", "apt": "install", "apk": "add", "dnf": "install",
            "yum": "install", "microdnf": "install"}
_SKIP_ENV = frozenset({"PATH", "HOME", "PWD", "HOSTNAME", "TERM", "DEBIAN_FRONTEND", "LANG",
                       "LC_ALL", "TZ"})


@dataclass(frozen=True)
class Instr:
    line: int
    cmd: str
    args: str


def parse(text: str) -> list[Instr]:
    """Instructions with continuations joined; comments and heredoc bodies skipped."""
    escape = "\\"
    lines = text.splitlines()
    if lines and (m := re.match(r"^#\s*escape\s*=\s*(\S)", lines[0], re.IGNORECASE)):
        escape = m.group(1)
    out: list[Instr] = []
    i = 0
    while i < len(lines):
        start, buf = i + 1, lines[i].strip()
        i += 1
        if not buf or buf.startswith("#"):
            continue
        while buf.endswith(escape) and i < len(lines):
            nxt = lines[i].strip()
            i += 1
            if nxt.startswith("#"):
                continue
            buf = buf[:-1] + " " + nxt
        # heredoc (`RUN <<EOF`, `cat <<-"END"`): skip its body. The delimiter is a word
        # after whitespace, so shell arithmetic like $((1<<2)) is not one.
        if m := re.search(r"(?:^|\s)<<-?(['\"]?)([A-Za-z_]\w*)\1", buf):
            end = m.group(2)
            while i < len(lines) and lines[i].strip() != end:
                i += 1
            i += 1
        parts = buf.split(None, 1)
        out.append(Instr(start, parts[0].upper(), parts[1] if len(parts) > 1 else ""))
    return out


def _subst(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)(?::?-([^}]*))?\}?",
                  lambda m: args.get(m.group(1)) or m.group(2) or "", value)


def dockerfile(ctx: Ctx, name: str) -> None:
    text = ctx.text(name)
    if text is None:
        return
    ctx.mark("docker", name)
    instrs = parse(text)
    args: dict[str, str] = {}
    stages: list[str] = []
    froms = [i for i in instrs if i.cmd == "FROM"]
    last_from = froms[-1].line if froms else 0
    for ins in instrs:
        if ins.cmd == "ARG" and (m := re.match(r"^(\w+)(?:=(\S*))?", ins.args)):
            args.setdefault(m.group(1), (m.group(2) or "").strip("\"'"))
        elif ins.cmd == "FROM":
            _from(ctx, name, ins, args, stages, final=ins.line == last_from)
        elif ins.cmd == "RUN":
            _run(ctx, name, ins)
        elif ins.cmd == "ENV" and ins.line > last_from:
            for key, val in _env_pairs(ins.args):
                env_candidate(ctx, key, val, name, ins.line, "Dockerfile ENV (final stage)")


def _from(ctx: Ctx, file: str, ins: Instr, args: dict[str, str], stages: list[str],
          final: bool) -> None:
    words = [w for w in ins.args.split() if not w.startswith("--")]
    if not words:
        return
    image = _subst(words[0], args)
    if len(words) >= 3 and words[1].lower() == "as":
        stages.append(words[2].lower())
    if image.lower() in stages[:-1] or image.lower() in ("scratch",):
        return  # FROM an earlier stage, or nothing
    iname, tag = image_ref(image)
    tool = lookup_image(iname, "tools")
    if tool is None:
        return
    v = tag_version(iname, tag)
    role = "final stage" if final else "build stage"
    image_tool(ctx, tool, v, file, ins.line, f"FROM {image} ({role})",
               rank.CONTAINER + (1 if final else 0), tag)


def _run(ctx: Ctx, file: str, ins: Instr) -> None:
    devcontainer = ".devcontainer" in ctx.rel(file).split("/")
    body = ins.args
    if body.startswith("["):  # exec form: ["apt-get", "install", ...]
        body = " ".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
    unknown: list[str] = []
    for cmd in re.split(r"&&|\|\||;|\|", body):
        try:
            words = shlex.split(cmd)
        except ValueError:
            words = cmd.split()
        while words and (words[0] in ("sudo", "env") or "=" in words[0]):
            words = words[1:]
        packages = _installed(words)
        if packages is None:
            continue
        for pkg in packages:
            if pkg.startswith(("-", "$")) or "/" in pkg:
                continue
            mapped, known = map_system_name(pkg)
            if not known and devcontainer:
                unknown.append(pkg)
                continue  # a devcontainer's own tooling: a finding, not the project's env
            for lib in mapped:
                ctx.system(lib, file, ins.line, f"RUN {words[0]} {_INSTALL[words[0]]} {pkg}")
            if not known:
                unknown.append(pkg)
    if unknown and devcontainer:
        ctx.warn(f"{ctx.rel(file)}:{ins.line}: the dev container also installs "
                 f"{', '.join(unknown)}; not added to [system] (add what the project needs)")
    elif unknown:
        ctx.warn(f"{ctx.rel(file)}:{ins.line}: no zagi name for {', '.join(unknown)}; kept "
                 "as written in [system] (check them)")


# Options of package managers that take a value (`apt-get -o Dpkg::Options::=...`).
_VALUED = frozenset({"-o", "--option", "-t", "--target-release", "-c", "--config-file",
                     "--repository", "-X", "--setopt", "--enablerepo", "--disablerepo"})


def _installed(words: list[str]) -> list[str] | None:
    """The packages `apt-get -qq -y --no-install-recommends install A B` names (options
    may come before the verb), or None when the command installs nothing."""
    if len(words) < 2 or words[0] not in _INSTALL:
        return None
    verb, i = _INSTALL[words[0]], 1
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in _VALUED else 1
    if i >= len(words) or words[i] != verb:
        return None
    return words[i + 1:]


def _env_pairs(args: str) -> list[tuple[str, str]]:
    try:
        words = shlex.split(args)
    except ValueError:
        return []
    if words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # legacy "ENV KEY value"
    return [tuple(w.split("=", 1)) for w in words if "=" in w]  # type: ignore[misc]


def env_candidate(ctx: Ctx, key: str, val: str, file: str, line: int | None, rule: str) -> None:
    """An [env] candidate; secrets-looking names and container paths are left out."""
    if key in _SKIP_ENV or "$" in val or "{{" in val or not re.fullmatch(r"[A-Za-z_]\w*", key):
        return
    if _SECRETISH.search(key):
        ctx.warn(f"{ctx.rel(file)}:{line}: {key} looks like a secret; not copied to env.toml "
                 "(secrets belong in `zagi secrets`)")
        return
    ctx.add("env", key, None, "pin", file, line, rule, rank.CONTAINER, value=val)


def compose(ctx: Ctx, name: str) -> None:
    text = ctx.text(name)
    if text is None:
        return
    try:
        doc, lines = load_yaml(text)
    except ParseError as err:
        ctx.bad(name, err)
        return
    ctx.mark("compose", name)
    services = doc.get("services") if isinstance(doc, dict) else None
    for sname, svc in (services.items() if isinstance(services, dict) else []):
        if not isinstance(svc, dict):
            continue
        image = svc.get("image")
        line = lines.get(("services", sname, "image"))
        env = svc.get("environment")
        if isinstance(image, str):
            service_image(ctx, image, name, line, f"compose service {sname!s}: image {image}",
                          rank.COMPOSE, _connection(env))
        if isinstance(env, dict):
            url_services(ctx, {str(k): str(v) for k, v in env.items() if v is not None}, name,
                         lines, ("services", sname, "environment"))
        elif isinstance(env, list):
            pairs = dict(str(e).split("=", 1) for e in env if "=" in str(e))
            url_services(ctx, pairs, name, lines, ("services", sname, "environment"))


def service_image(ctx: Ctx, image: str, file: str, line: int | None, rule: str,
                  rnk: int, extra: dict[str, list[str]] | None = None) -> None:
    iname, tag = image_ref(image)
    svc = lookup_image(iname, "services")
    if svc:
        ctx.service(svc, tag_version(iname, tag) if tag != "lts" else None, file, line, rule,
                    rnk, extra)


# The official images' variables naming the database and user the app connects as;
# `zagi up` creates the same (passwords are not carried: local servers trust 127.0.0.1).
_CONNECTION = {"database": ("POSTGRES_DB", "MYSQL_DATABASE", "MARIADB_DATABASE"),
               "user": ("POSTGRES_USER", "MYSQL_USER", "MARIADB_USER")}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _connection(env: object) -> dict[str, list[str]] | None:
    if isinstance(env, list):
        env = dict(str(e).split("=", 1) for e in env if "=" in str(e))
    if not isinstance(env, dict):
        return None
    out = {}
    for key, names in _CONNECTION.items():
        for n in names:
            v = env.get(n)
            if isinstance(v, str) and _IDENT.match(v):  # not ${VAR} interpolations
                out[key] = [v]
                break
    return out or None


def detect(ctx: Ctx) -> None:
    for name in sorted(ctx.names):
        if DOCKERFILE.match(name):
            dockerfile(ctx, name)
        elif COMPOSE.match(name):
            compose(ctx, name)
