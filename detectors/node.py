"""JavaScript/TypeScript: node, bun, deno and the package manager (with its major)."""

from __future__ import annotations

import re
from typing import Any

from detectors import rank
from detectors.base import Ctx, data
from detectors.common import clean_version, kind_of, npm_range, system_from_deps
from detectors.text import ParseError, first_value_line, json_key_line, load_json

FILES = frozenset({
    "package.json", ".nvmrc", ".node-version", "pnpm-lock.yaml", "yarn.lock",
    "package-lock.json", "npm-shrinkwrap.json", "bun.lock", "bun.lockb", "deno.json",
    "deno.jsonc", ".deno-version", ".bun-version", "pnpm-workspace.yaml",
})  # fmt: skip
MANAGERS = ("pnpm", "bun", "yarn", "npm")
LOCKFILES = {"pnpm-lock.yaml": "pnpm", "bun.lock": "bun", "bun.lockb": "bun",
             "yarn.lock": "yarn", "package-lock.json": "npm", "npm-shrinkwrap.json": "npm"}


def detect(ctx: Ctx) -> None:
    if not ctx.names & FILES:
        return
    pkg = _package_json(ctx)
    node_pinned = _node_version_files(ctx)
    manager = _manager(ctx, pkg)
    if pkg is not None:
        ctx.mark("node", "package.json")
        ctx.name(pkg.get("name"))
        node_pinned |= _package_fields(ctx, pkg)
        _workspaces(ctx, pkg)
        deps: dict[str, int | None] = {}
        text = ctx.text("package.json") or ""
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            sec = pkg.get(section)
            if isinstance(sec, dict):
                for name in sec:
                    deps[str(name)] = json_key_line(text, section, str(name))
        system_from_deps(ctx, "node", deps, "package.json")
    _deno(ctx)
    _bun_version_file(ctx)
    needs_node = pkg is not None and manager != "bun"
    if needs_node and not node_pinned:
        ctx.default("node", "package.json", "package.json present; no node version pinned")
    elif pkg is not None and manager == "bun" and not node_pinned and _declares_deps(pkg):
        # npm packages assume node (install scripts, node-gyp): the build-plan tools put
        # node beside bun as soon as a bun project has dependencies.
        ctx.default("node", "package.json", "bun project with dependencies: packages may "
                                            "need node (install scripts, node-gyp)")


def _declares_deps(pkg: dict[str, Any]) -> bool:
    return any(isinstance(pkg.get(s), dict) and pkg[s]
               for s in ("dependencies", "devDependencies", "optionalDependencies"))


def _package_json(ctx: Ctx) -> dict[str, Any] | None:
    if "package.json" not in ctx.names:
        return None
    text = ctx.text("package.json")
    if text is None:
        return None
    try:
        pkg = load_json(text)
    except ParseError as err:
        ctx.bad("package.json", err)
        return None
    if not isinstance(pkg, dict):
        ctx.warn(f"{ctx.rel('package.json')}: expected a JSON object; ignored")
        return None
    return pkg


def _nvmrc_value(raw: str) -> tuple[str | None, str]:
    v = raw.strip()
    if v.lower() == "lts/*":
        return "lts", "lts/*"
    if v.lower().startswith("lts/"):
        code = v[4:].lower()
        major = data("node")["lts"].get(code)
        return (str(major), f"lts/{code} = {major}") if major else (None, "")
    if v.lower() in ("node", "stable", "current", "latest"):
        return "latest", v
    return clean_version(v), ""


def _node_version_files(ctx: Ctx) -> bool:
    found = False
    for name in (".nvmrc", ".node-version"):
        if name not in ctx.names or (text := ctx.text(name)) is None:
            continue
        first = first_value_line(text)
        if first is None:
            ctx.warn(f"{ctx.rel(name)}: empty; ignored")
            continue
        version, note = _nvmrc_value(first[0])
        if version is None:
            ctx.warn(f"{ctx.rel(name)}:{first[1]}: {first[0][:40]!r} is not a node version "
                     "(expected e.g. 20, v20.11.1, lts/*, lts/iron); ignored")
            continue
        ctx.tool("node", version, "pin", name, first[1], f"{name}{' ' + note if note else ''}",
                 rank.VERSION_FILE)
        found = True
    return found


def _package_fields(ctx: Ctx, pkg: dict[str, Any]) -> bool:
    """engines, devEngines, packageManager. Returns True if node got a version."""
    text = ctx.text("package.json") or ""
    found = False
    engines = pkg.get("engines")
    if isinstance(engines, dict):
        # engines.pnpm / engines.yarn name the package manager's version too (a range
        # picks that manager, as corepack and pnpm itself read it)
        for tool in ("node", "bun", "deno", "pnpm", "yarn"):
            val = engines.get(tool)
            if isinstance(val, str) and (c := npm_range(val)):
                req, kind, note = c
                r = rank.MANIFEST_PIN if kind == "pin" else rank.MANIFEST_FLOOR
                ctx.tool(tool, req, kind, "package.json", json_key_line(text, "engines", tool),
                         f"engines.{tool} {val.strip()!r}{note}", r)
                found |= tool == "node"
    dev = pkg.get("devEngines")
    if isinstance(dev, dict):
        for field, allowed in (("runtime", ("node", "bun", "deno")), ("packageManager", MANAGERS)):
            entries = dev.get(field)
            for entry in entries if isinstance(entries, list) else [entries]:
                if not isinstance(entry, dict):
                    continue
                name, ver = entry.get("name"), entry.get("version")
                if name not in allowed:
                    continue
                c = npm_range(ver) if isinstance(ver, str) else None
                req, kind, note = c if c else ("", "default", "")
                r = (rank.MANIFEST_PIN if kind == "pin" else rank.MANIFEST_FLOOR) + 2
                ctx.tool(str(name), req or None, kind, "package.json",
                         json_key_line(text, "devEngines", field), f"devEngines.{field}{note}", r)
                found |= name == "node" and req is not None
    return found


def _major(version: str) -> str | None:
    m = re.match(r"(\d+)\.", version)
    return m.group(1) if m else None


def _manager(ctx: Ctx, pkg: dict[str, Any] | None) -> str:
    """Record the package manager and return its name."""
    text = (ctx.text("package.json") or "") if pkg is not None else ""
    explicit = None
    pm = pkg.get("packageManager") if pkg else None
    if isinstance(pm, str):
        if m := re.match(r"^(npm|pnpm|yarn|bun)@v?(\d[\w.\-]*?)(?:\+.*)?$", pm.strip()):
            explicit, version = m.group(1), m.group(2)
            rule = "packageManager field"
            if explicit in ("pnpm", "yarn") and (major := _major(version)):
                # corepack (or pnpm itself) runs the exact release the field names; what
                # the env must carry is a manager of that major to start it
                version, rule = major, f"packageManager field {explicit}@{version} (the env " \
                    f"carries {explicit} {major}; corepack runs that exact release)"
            ctx.tool(explicit, version, "pin", "package.json",
                     json_key_line(text, "packageManager"), rule, rank.MANIFEST_PIN)
        else:
            ctx.warn(f"{ctx.rel('package.json')}: packageManager {pm[:60]!r} is not "
                     "NAME@VERSION for npm, pnpm, yarn or bun; ignored")
    locks = [f for f in LOCKFILES if f in ctx.names]
    managers = list(dict.fromkeys(LOCKFILES[f] for f in locks))
    if explicit is None and pkg and isinstance(pkg.get("devEngines"), dict):
        dpm = pkg["devEngines"].get("packageManager")
        if isinstance(dpm, dict) and dpm.get("name") in MANAGERS:
            explicit = str(dpm["name"])
    engines = pkg.get("engines") if pkg else None
    if explicit is None and not managers and isinstance(engines, dict):
        # engines.pnpm / engines.yarn without a lockfile still say which manager
        explicit = next((m for m in ("pnpm", "yarn") if isinstance(engines.get(m), str)), None)
    chosen = explicit or (managers[0] if managers else None)
    if len(managers) > 1 or (explicit and managers and explicit not in managers):
        ctx.warn(f"{ctx.rel('.')}: lockfiles of several package managers "
                 f"({', '.join(locks)}); using {chosen}"
                 f"{' (packageManager field)' if explicit else ''}")
    for lock in locks:
        if LOCKFILES[lock] == chosen:
            _lockfile(ctx, lock)
    if chosen is None and pkg is not None and not _in_js_workspace(ctx):
        ctx.default("npm", "package.json", "no lockfile: npm, bundled with node")
        chosen = "npm"
    return chosen or "npm"


def _in_js_workspace(ctx: Ctx) -> bool:
    """A package inside a workspace uses the root's manager, not a default of its own."""
    parts = [] if ctx.dir == "." else ctx.dir.split("/")
    return any(ctx.fs.exists("/".join([*parts[:i], "package.json"]))
               for i in range(len(parts)))


def _lockfile(ctx: Ctx, lock: str) -> None:
    tool = LOCKFILES[lock]
    if lock == "bun.lockb" or lock == "bun.lock":
        ctx.tool("bun", None, "default", lock, None, f"{lock} present", rank.LOCKFILE)
        return
    head = ctx.head(lock, 64 << 10)
    if head is None:
        return
    if tool == "pnpm":
        m = re.search(r"^lockfileVersion:\s*['\"]?(\d+(?:\.\d+)?)", head, re.MULTILINE)
        table = data("node")["pnpm_lockfile"]
        if m:
            v = m.group(1)
            req = table.get(v) or table.get(v.split(".")[0])
            line = head.count("\n", 0, m.start()) + 1
            if req:
                ctx.tool("pnpm", req, kind_of(req), lock, line, f"lockfileVersion {v}", rank.LOCKFILE)
                return
        ctx.tool("pnpm", None, "default", lock, None, f"{lock} present", rank.LOCKFILE)
    elif tool == "yarn":
        _yarn(ctx, lock, head)
    else:
        m = re.search(r'"lockfileVersion"\s*:\s*(\d+)', head)
        req = data("node")["npm_lockfile"].get(m.group(1)) if m else None
        if m and req:
            ctx.tool("npm", req, kind_of(req), lock, head.count("\n", 0, m.start()) + 1,
                     f"lockfileVersion {m.group(1)}", rank.LOCKFILE)
        else:
            ctx.tool("npm", None, "default", lock, None, f"{lock} present", rank.LOCKFILE)


def _yarn(ctx: Ctx, lock: str, head: str) -> None:
    rc = ctx.text(".yarnrc.yml") if ".yarnrc.yml" in ctx.names else None
    if rc and (m := re.search(r"^yarnPath:\s*['\"]?\S*?yarn-(\d+\.\d+\.\d+)\.c?js", rc, re.M)):
        # the repo's own copy of that release is what runs; any yarn of its major starts it
        ctx.tool("yarn", _major(m.group(1)), "pin", ".yarnrc.yml",
                 rc.count("\n", 0, m.start()) + 1,
                 f"yarnPath release {m.group(1)} (the repo's own copy runs it)", rank.VERSION_FILE)
    if re.search(r"^__metadata:", head, re.MULTILINE) or rc is not None:
        ctx.tool("yarn", ">=2", "floor", lock, None, "yarn.lock __metadata (yarn berry)",
                 rank.LOCKFILE)
    elif "# yarn lockfile v1" in head:
        line = head.count("\n", 0, head.index("# yarn lockfile v1")) + 1
        ctx.tool("yarn", "1", "pin", lock, line, "yarn lockfile v1 (yarn classic)", rank.LOCKFILE)
    else:
        ctx.tool("yarn", None, "default", lock, None, f"{lock} present", rank.LOCKFILE)


def _workspaces(ctx: Ctx, pkg: dict[str, Any]) -> None:
    ws = pkg.get("workspaces")
    globs = ws.get("packages") if isinstance(ws, dict) else ws
    if isinstance(globs, list) and globs:
        ctx.project.workspaces.extend(str(g) for g in globs)
    if "pnpm-workspace.yaml" in ctx.names:
        text = ctx.text("pnpm-workspace.yaml") or ""
        ctx.project.workspaces.extend(re.findall(r"^\s*-\s*['\"]?([^'\"\n#]+?)['\"]?\s*$",
                                                 text, re.MULTILINE))
        ctx.mark("node", "pnpm-workspace.yaml")


def _deno(ctx: Ctx) -> None:
    for name in ("deno.json", "deno.jsonc"):
        if name in ctx.names:
            ctx.mark("deno", name)
            ctx.default("deno", name, f"{name} present; no deno version pinned")
    _version_file(ctx, ".deno-version", "deno")


def _bun_version_file(ctx: Ctx) -> None:
    _version_file(ctx, ".bun-version", "bun")


def _version_file(ctx: Ctx, name: str, tool: str) -> None:
    if name not in ctx.names or (text := ctx.text(name)) is None:
        return
    first = first_value_line(text)
    if first and (v := clean_version(first[0])):
        ctx.tool(tool, v, "pin", name, first[1], name, rank.VERSION_FILE)
        ctx.mark(tool, name)
    else:
        ctx.warn(f"{ctx.rel(name)}: expected a {tool} version; ignored")
