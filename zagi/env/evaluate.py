"""Evaluating a lock's package sets: the env template's data and its parts.

Only what needs nixpkgs lives here (the legacy buildEnv env, the versions and paths of
packages the catalog has no paths for, building those from nixpkgs). Every evaluation is
restricted: the template, its data, the stand-in sets and the store may be read, and
only the lock's own nixpkgs URLs fetched.
"""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from nixgen.catalog import Catalog
from nixgen.facts import KEPT_OUTPUTS
from zagi.core.errors import BadInput
from zagi.drivers import nix
from zagi.formats.lockfile import Lock, Source

ENV_NAME = "zagi-env"  # one name for every project, so identical envs share one store path
EXTRA_OUTPUTS = ["dev", "man"]


def _template_source(cat: Catalog, rev: str, src: Source) -> dict[str, str]:
    """A locked nixpkgs source as the templates read it: a local path or a tarball + hash."""
    if src.standin is not None:
        local = cat.revision_dir(src.standin) if src.standin in cat.revisions else None
        if local is None:
            raise BadInput(f"this lock uses the stand-in package set revision {rev!r}",
                           hint="set ZAGI_NIXPKGS to the stand-in set (fixtures/nixpkgs)")
        return {"path": str(local)}
    assert src.url is not None  # lockfile.parse guarantees standin or url
    return {"url": src.url, "sha256": src.sha256} if src.sha256 else {"url": src.url}


def nix_data(lk: Lock, cat: Catalog) -> dict[str, Any]:
    """The JSON the static template reads, from a lock (so sync rebuilds exactly it)."""
    sources = {rev: _template_source(cat, rev, src) for rev, src in lk.nixpkgs.items()}
    newest = max(sources, key=lambda r: cat.revisions[r].order if r in cat.revisions else -1)
    return {
        "name": ENV_NAME,
        "nixpkgs": sources,
        "packages": [{"nixpkgs": p.nixpkgs, "attr": attr.split(".")}
                     for _, p in sorted(lk.packages.items()) for attr in p.attrs],
        "buildEnv": newest,
        "extraOutputs": EXTRA_OUTPUTS,
        "installed": list(KEPT_OUTPUTS),
        "config": dict(lk.nixpkgs_config),
    }


def template() -> Path:
    return Path(str(resources.files("nixgen").joinpath("templates/env.nix")))


def evaluate(lk: Lock, cat: Catalog, system: str, opts: nix.Options) -> tuple[str, str]:
    """Instantiate the env for `system` without building: (derivation, output path).

    Always restricted: the evaluation may read the template, its data, the stand-in sets
    and the store, and fetch the lock's own nixpkgs URLs; nothing else of the user's.
    """
    data = nix_data(lk, cat)
    with tempfile.TemporaryDirectory(prefix="zagi-gen-") as tmp:
        data_file = Path(tmp) / "env.json"
        data_file.write_text(json.dumps(data, sort_keys=True))
        # a local (stand-in) set may import its siblings (../lib): allow its parent
        local = [str(Path(s["path"]).parent) for s in data["nixpkgs"].values() if "path" in s]
        search = [str(template().parent), tmp, *dict.fromkeys(local)]
        uris = [s["url"] for s in data["nixpkgs"].values() if "url" in s]
        try:
            return nix.instantiate(template(), {"data": str(data_file)}, {"system": system},
                                   opts.restricted(search, uris))
        except nix.NixEvalError as exc:
            raise _explained(exc) from None


def _explained(exc: nix.NixEvalError) -> nix.NixEvalError:
    """nixpkgs' refusals, with the env.toml line that lifts them."""
    tail = exc.log_tail or ""
    if "unfree license" in tail:
        exc.message = "a package has an unfree license, and nixpkgs refuses to evaluate it"
        exc.hint = "if you accept its licence: [nix] allow_unfree = true in .zagi/env.toml"
    elif "marked as insecure" in tail:
        exc.message = "a package is marked as insecure, and nixpkgs refuses to evaluate it"
        exc.hint = ('to use it anyway: [nix] permitted_insecure = ["<name-version>"] in '
                    ".zagi/env.toml (the name is in the error above)")
    return exc


def _restricted(data: dict[str, Any], tmp: str, opts: nix.Options) -> nix.Options:
    """What an evaluation of the env template may read: the template, its data, the
    stand-in sets' directories and the store; and fetch: the lock's own nixpkgs URLs."""
    local = [str(Path(s["path"]).parent) for s in data["nixpkgs"].values() if "path" in s]
    uris = [s["url"] for s in data["nixpkgs"].values() if "url" in s]
    return opts.restricted([str(template().parent), tmp, *dict.fromkeys(local)], uris)


def eval_part(lk: Lock, cat: Catalog, system: str, part: str, opts: nix.Options) -> Any:
    """One of env.nix's parts ("outputs", "packages"), evaluated, nothing built."""
    data = nix_data(lk, cat)
    with tempfile.TemporaryDirectory(prefix="zagi-gen-") as tmp:
        data_file = Path(tmp) / "env.json"
        data_file.write_text(json.dumps(data, sort_keys=True))
        try:
            return nix.eval_json(template(), {"data": str(data_file)},
                                 {"system": system, "part": part}, _restricted(data, tmp, opts))
        except nix.NixEvalError as exc:
            raise _explained(exc) from None


def build_part(lk: Lock, cat: Catalog, opts: nix.Options,
               on_event: nix.Event | None = None) -> list[str]:
    """Build (or substitute) the installed outputs of the lock's packages, from nixpkgs."""
    data = nix_data(lk, cat)
    with tempfile.TemporaryDirectory(prefix="zagi-gen-") as tmp:
        data_file = Path(tmp) / "env.json"
        data_file.write_text(json.dumps(data, sort_keys=True))
        try:
            return nix.build(template(), {"data": str(data_file)}, {"part": "build"},
                             _restricted(data, tmp, opts), on_event)
        except nix.NixEvalError as exc:
            raise _explained(exc) from None


def outputs(lk: Lock, cat: Catalog, system: str, opts: nix.Options) -> list[str]:
    """The store paths the env links on `system` (its packages' installed outputs),
    evaluated, not built, under the same restrictions as the env itself."""
    found = eval_part(lk, cat, system, "outputs", opts)
    if not isinstance(found, list) or not all(isinstance(p, str) for p in found):
        raise BadInput("the env template returned something other than store paths")
    return sorted(set(found))
