"""The env as store paths (zagi/env/compose.py): which paths, in what priority (no Nix)."""

from __future__ import annotations

import pytest

from nixgen.catalog import Catalog, Entry, Revision
from zagi.core.errors import BadInput
from zagi.env import compose
from zagi.formats.lockfile import Lock, Package

NODE = "/nix/store/" + "a" * 32 + "-nodejs-20.12.2"
NODE_DEV = NODE + "-dev"
RUSTC = "/nix/store/" + "r" * 32 + "-rustc-1.79.0"
CARGO = "/nix/store/" + "c" * 32 + "-cargo-1.79.0"


def catalog() -> Catalog:
    revs = {"new": Revision("new", 0)}
    return Catalog(revs, {
        "node": [Entry("node", "20.12.2", "nodejs_20", "new", outputs={
            "x86_64-linux": {"out": NODE, "dev": NODE_DEV, "debug": "/nix/store/x-debug"}})],
        "rust": [Entry("rust", "1.79.0", "rustc", "new", outputs={"x86_64-linux": {"out": RUSTC}}),
                 Entry("rust", "1.79.0", "cargo", "new", outputs={"x86_64-linux": {"out": CARGO}})],
    })


def lock(**packages: Package) -> Lock:
    return Lock("sha256:x", {}, dict(packages), {}, {})


def test_catalog_paths_are_the_installed_outputs_in_a_fixed_order() -> None:
    pkg = Package("tool", "20", "20.12.2", "nodejs_20", "new")
    assert compose.catalog_paths(catalog(), "node", pkg, "x86_64-linux") == (NODE, NODE_DEV)
    assert compose.catalog_paths(catalog(), "node", pkg, "aarch64-darwin") is None
    other = Package("tool", "20", "20.11.1", "nodejs_20", "new")  # not the catalog's version
    assert compose.catalog_paths(catalog(), "node", other, "x86_64-linux") is None


def test_a_bundle_needs_the_paths_of_every_attribute() -> None:
    both = Package("tool", "1.79", "1.79.0", "rustc", "new", ("cargo",))
    assert compose.catalog_paths(catalog(), "rust", both, "x86_64-linux") == (RUSTC, CARGO)
    cat = catalog()
    cat.packages["rust"] = cat.packages["rust"][:1]  # cargo's paths not recorded
    assert compose.catalog_paths(cat, "rust", both, "x86_64-linux") is None


def test_priorities_are_distinct_and_the_projects_manager_beats_the_bundled_one() -> None:
    lk = lock(node=Package("tool", "20", "20", "nodejs_20", "new"),
              npm=Package("tool", "10", "10", "nodePackages.npm", "new"),
              postgres=Package("service", "16", "16", "postgresql_16", "new"),
              libpq=Package("system", "latest", "16", "libpq", "new"),
              go=Package("tool", "1.22", "1.22", "go", "new"))
    prio = compose.priorities(lk)
    assert len(set(prio.values())) == len(prio)  # never a tie: buildenv fails on one
    assert prio["npm"] < prio["node"] < prio["postgres"] < prio["libpq"]
    assert prio["go"] < prio["node"]  # alphabetical among tools


@pytest.mark.parametrize("path", ["/nix/store/short-x", "/etc/passwd",
                                  "/nix/store/" + "a" * 32 + "-x\"; builtins.exec",
                                  "/nix/store/" + "a" * 32 + "-x/../../etc"])
def test_only_plain_store_paths_reach_the_compose_expression(path: str) -> None:
    lk = lock(node=Package("tool", "20", "20", "nodejs_20", "new"))
    with pytest.raises(BadInput, match="is not a store path"):
        compose._data(lk, {"node": (path,)})


def test_activation_may_point_build_variables_at_propagated_libraries_and_nothing_else(
        tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """activate.json is re-checked on every read: a propagated library's include/lib dirs
    are allowed for the compiler variables, never for PATH, and never outside the store."""
    import json
    from pathlib import Path

    from zagi.core import layout
    from zagi.env import state

    monkeypatch.setenv("ZAGI_HOME", str(tmp_path))
    out = "/nix/store/" + "e" * 32 + "-zagi-env"
    lib = "/nix/store/" + "p" * 32 + "-pixman-1-0.42.2"
    act = state.write_activation("id1", out, {}, [lib])
    assert act["prepend"]["LD_RUN_PATH"] == [f"{out}/lib"]  # lib dir absent here: not added
    path = layout.env_dir("id1") / layout.ACTIVATE_JSON
    for var, d, ok in (("CPATH", f"{lib}/include", True), ("LD_RUN_PATH", f"{lib}/lib", True),
                       ("PATH", f"{lib}/bin", False), ("CPATH", "/etc/include", False),
                       ("CPATH", f"{lib}/../../etc", False)):
        doc = json.loads(Path(path).read_text())
        doc["prepend"][var] = [*doc["prepend"][var], d]
        path.chmod(0o644)
        path.write_text(json.dumps(doc))
        assert (state.read_activation("id1", out) is not None) == ok, (var, d)
        state.write_activation("id1", out, {}, [lib])


def test_a_file_two_packages_provide_is_said_with_the_winner(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    node, npm, go = root / "node", root / "npm", root / "go"
    for d, files in ((node, {"bin/node": "n", "bin/npm": "bundled"}),
                     (npm, {"bin/npm": "pinned", "bin/npx": "x"}), (go, {"bin/go": "g"})):
        for rel, text in files.items():
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_text(text)
    lk = lock(node=Package("tool", "20", "20", "nodejs_20", "new"),
              npm=Package("tool", "10", "10", "nodePackages.npm", "new"),
              go=Package("tool", "1", "1", "go", "new"))
    said = compose.collisions(lk, {"node": (str(node),), "npm": (str(npm),), "go": (str(go),)})
    assert said == ["bin/npm: npm's copy wins over node's (priority order: docs/catalog.md)"]
