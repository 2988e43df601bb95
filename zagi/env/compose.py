"""The env as store paths: which paths each package installs, and composing them.

A lock records, per system, the store paths of each package's installed outputs
(`SystemLock.packages`). They come from the catalog when it carries them (the shipped
catalog's facts, as devbox locks by store path) and otherwise from evaluating the
package's nixpkgs. The env is those paths composed by Nix's builtin buildenv
(nixgen/templates/compose.nix): no package set is downloaded or evaluated to compose
it, so a sync whose paths the user's caches have evaluates no nixpkgs at all.

Which outputs: out, bin, lib and dev (headers, .pc files) and man, where a package has
them: libraries bring their .so and their headers. Collisions: every package has its
own priority (lower wins), so composing never fails and never picks by accident; the
order is in `priorities`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nixgen.facts import KEPT_OUTPUTS
from zagi.core.errors import BadInput
from zagi.drivers import nix
from zagi.formats.lockfile import STORE_PATH, Lock, Package

if TYPE_CHECKING:
    from nixgen.catalog import Catalog

INSTALLED = KEPT_OUTPUTS  # the outputs an env installs; the catalog keeps just these
Paths = dict[str, tuple[str, ...]]


def template() -> Path:
    return Path(str(resources.files("nixgen").joinpath("templates/compose.nix")))


def _catalog_outputs(cat: Catalog, name: str, attr: str, pkg: Package,
                     system: str) -> list[str] | None:
    for e in cat.packages.get(name) or []:
        if (e.attr, e.rev, e.version) == (attr, pkg.nixpkgs, pkg.version):
            outs = e.outputs.get(system)
            if outs:
                return [outs[o] for o in INSTALLED if o in outs]
    return None


def catalog_paths(cat: Catalog, name: str, pkg: Package, system: str) -> tuple[str, ...] | None:
    """A package's installed paths on `system` as the catalog records them (every
    attribute of a bundle included), or None when it does not record them all."""
    paths: list[str] = []
    for attr in pkg.attrs:
        got = _catalog_outputs(cat, name, attr, pkg, system)
        if got is None:
            return None
        paths += got
    return tuple(paths)


def package_paths(lk: Lock, cat: Catalog, system: str, opts: nix.Options,
                  before_eval: Callable[[], None] = lambda: None) -> Paths:
    """Every package's installed paths on `system`: from the catalog where it has them,
    the rest from one evaluation of their nixpkgs (`before_eval` runs first: the caller
    vouches for the package sets there)."""
    from zagi.env import evaluate

    found: Paths = {}
    missing: dict[str, Package] = {}
    for name, pkg in lk.packages.items():
        got = catalog_paths(cat, name, pkg, system)
        if got is None:
            missing[name] = pkg
        else:
            found[name] = got
    if missing:
        before_eval()
        from dataclasses import replace

        sub = replace(lk, packages=missing)
        names = [n for n, p in sorted(missing.items()) for _ in p.attrs]
        raw = evaluate.eval_part(sub, cat, system, "packages", opts)
        if not isinstance(raw, list) or len(raw) != len(names):
            raise BadInput("the env template returned something other than each "
                           "package's paths")
        for name, paths in zip(names, raw, strict=True):
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise BadInput("the env template returned something other than store paths")
            found[name] = (*found.get(name, ()), *paths)
    return {n: found[n] for n in sorted(found)}


def priorities(lk: Lock) -> dict[str, int]:
    """Who wins a file two packages provide (lower wins), documented in docs/catalog.md:
    a manager the project pins beats the copy its runtime bundles (npm over node's bin/npm),
    then tools, then services, then system packages; alphabetical within each."""
    from detectors.base import data

    bundled = set(data("defaults")["bundled"])
    rank = {"tool": 1, "service": 2, "system": 3}
    order = sorted(lk.packages, key=lambda n: (0 if n in bundled and lk.packages[n].kind == "tool"
                                               else rank.get(lk.packages[n].kind, 4), n))
    return {name: 10 + i for i, name in enumerate(order)}


def _data(lk: Lock, paths: Paths) -> dict[str, Any]:
    from zagi.env.evaluate import ENV_NAME

    prio = priorities(lk)
    for name, ps in paths.items():
        bad = [p for p in ps if not STORE_PATH.fullmatch(p)]
        if bad or not ps:
            raise BadInput(f"{name}: {bad[0] if bad else 'no paths'!r} is not a store path")
    return {"name": ENV_NAME,
            "packages": [{"paths": list(paths[n]), "priority": prio[n]} for n in sorted(paths)]}


def _with_data(lk: Lock, paths: Paths, run: Callable[[Path, nix.Options], Any]) -> Any:
    with tempfile.TemporaryDirectory(prefix="zagi-compose-") as tmp:
        data_file = Path(tmp) / "compose.json"
        data_file.write_text(json.dumps(_data(lk, paths), sort_keys=True))
        # the template reads its data, nothing else (store paths are named, not read)
        return run(data_file, nix.Options().restricted([str(template().parent), tmp], []))


def out_path(lk: Lock, paths: Paths, system: str) -> str:
    """The env's output path on `system`, computed (read-only: nothing is fetched or
    written), so a lock for another system needs none of its paths."""
    got = _with_data(lk, paths, lambda f, o: nix.eval_json(
        template(), {"data": str(f)}, {"system": system}, o))
    if not isinstance(got, str) or not got.startswith("/nix/store/"):
        raise BadInput("the compose template returned something other than a store path")
    return got


def derivation(lk: Lock, paths: Paths) -> tuple[str, str]:
    """The env's derivation for this system (its paths must be valid): (drv, out)."""
    return _with_data(lk, paths, lambda f, o: nix.instantiate(  # type: ignore[no-any-return]
        template(), {"data": str(f)}, {}, o))


def realise_paths(lk: Lock, cat: Catalog, paths: Paths, opts: nix.Options,
                  on_event: nix.Event | None = None,
                  before_build: Callable[[], None] = lambda: None) -> bool:
    """Make every path valid: substituted from the caches Nix uses, and what they do not
    have built from the package's nixpkgs (`before_build` first: vouching). True when
    something had to be built from nixpkgs."""
    wanted = [p for ps in paths.values() for p in ps]
    if nix.substitute(wanted, on_event):
        return False
    still = nix.invalid(wanted)
    if not still:
        return False
    before_build()
    from dataclasses import replace

    from zagi.env import evaluate

    need = {n: lk.packages[n] for n, ps in paths.items() if set(ps) & still}
    got = set(evaluate.build_part(replace(lk, packages=need), cat, opts, on_event))
    if lost := sorted(p for p in still if p not in got and not nix.is_valid(p)):
        raise BadInput(f"building {', '.join(sorted(need))} from nixpkgs did not give the "
                       f"locked path {lost[0]}: the lock and its package set disagree",
                       file=str(lk.path) if lk.path else None, hint="run `zagi lock` to relock")
    return True


MAX_PROPAGATED = 1000  # paths; a real closure propagates dozens
MAX_PROPAGATION_FILE = 1 << 16


def propagated(paths: Paths | None) -> list[str]:
    """Store paths the env's packages reach through nix-support/propagated-build-inputs
    (a library's dev output names its `out` and the dev outputs of what it Requires),
    breadth first, excluding the env's own: buildenv does not follow these, so activation
    points compilers and pkg-config at them (docs/catalog.md). Bounded in count and in
    each file's size; a path that is not valid contributes nothing."""
    own = {p for ps in (paths or {}).values() for p in ps}
    queue, seen, out = sorted(own), set(own), list[str]()
    while queue and len(out) < MAX_PROPAGATED:
        path = queue.pop(0)
        try:
            with open(f"{path}/nix-support/propagated-build-inputs", "rb") as fh:
                text = fh.read(MAX_PROPAGATION_FILE).decode("utf-8", "replace")
        except OSError:
            continue
        for word in text.split():
            if STORE_PATH.fullmatch(word) and word not in seen:
                seen.add(word)
                out.append(word)
                queue.append(word)
    return out[:MAX_PROPAGATED]


COLLISION_DIRS = ("bin", "include", "lib", "lib/pkgconfig", "share/pkgconfig")
MAX_ENTRIES = 20000  # per directory read; a package's bin/ has a few hundred


def collisions(lk: Lock, paths: Paths) -> list[str]:
    """What the priority rule decided, said (never a silent pick): each file in the
    directories where a clash matters (bin/, include/, lib/ and the .pc dirs) that more
    than one package provides with different contents, and which package's copy the
    env links. Read from the realised paths, so only on the system that has them."""
    import os

    prio = priorities(lk)
    order = sorted(paths, key=lambda n: prio.get(n, 99))
    seen: dict[str, tuple[str, str]] = {}  # relpath -> (winner, its real file)
    lost: dict[str, list[str]] = {}
    for name in order:
        for sub in COLLISION_DIRS:
            for root in paths[name]:
                try:
                    with os.scandir(f"{root}/{sub}") as it:
                        entries = [e.name for _, e in zip(range(MAX_ENTRIES), it, strict=False)]
                except OSError:
                    continue
                for entry in entries:
                    rel = f"{sub}/{entry}"
                    real = os.path.realpath(f"{root}/{rel}")
                    if rel not in seen:
                        seen[rel] = (name, real)
                    elif seen[rel][0] != name and seen[rel][1] != real and not os.path.isdir(real):
                        lost.setdefault(rel, []).append(name)
    return [f"{rel}: {seen[rel][0]}'s copy wins over {', '.join(dict.fromkeys(losers))}'s "
            "(priority order: docs/catalog.md)" for rel, losers in sorted(lost.items())]
