"""A user's own nixpkgs configuration never changes an env (issue 12, item 5).

nixpkgs imported without `overlays` reads ~/.config/nixpkgs/overlays.nix, and the
stand-in set does the same. Two things keep it out, each enough alone (checked by
turning the other off): evaluation is restricted (no $HOME, no files outside the
package sets), and every set is imported with `overlays = []` and an explicit `config`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Ran, run_zagi
from tests.integration.conftest import make_project, tool_output

pytestmark = pytest.mark.integration

OVERLAY = """[ (final: prev: { nodejs_20 = prev.uv; }) ]\n"""


def test_a_users_overlay_does_not_change_the_env(tmp_path: Path, zenv: dict[str, str],
                                                 z: Callable[..., Ran]) -> None:
    plain = make_project(tmp_path / "plain", '[tools]\nnode = "20"\n')
    z("lock", cwd=plain)
    home = tmp_path / "home"
    (home / ".config" / "nixpkgs").mkdir(parents=True)
    (home / ".config" / "nixpkgs" / "overlays.nix").write_text(OVERLAY)
    (home / ".config" / "nixpkgs" / "config.nix").write_text("{ allowUnfree = true; }\n")
    other = make_project(tmp_path / "overlaid", '[tools]\nnode = "20"\n')
    ran = run_zagi("sync", cwd=other, env={**zenv, "HOME": str(home)}, timeout=300)
    assert ran.code == 0, ran.err

    def out(p: Path) -> str:
        return str(next(iter(json.loads((p / ".zagi/env.lock").read_text())["systems"]
                             .values()))["out"])

    assert out(other) == out(plain)
    assert tool_output(other, "node", "--version") == "v20.12.2"
    assert os.readlink(other / ".zagi" / "env") == out(plain)


def test_unfree_packages_only_as_env_toml_asks(tmp_path: Path, z: Callable[..., Ran]) -> None:
    """nixpkgs refuses an unfree package unless config.allowUnfree; zagi passes that only
    from env.toml's [nix] (never the user's config.nix), and says which line lifts it."""
    p = make_project(tmp_path / "p", '[tools]\nterraform = { attr = "terraform" }\n')
    refused = z("lock", "--json", cwd=p, check=False)
    assert refused.code != 0
    err = refused.json()
    assert "unfree license" in err["error"] and "allow_unfree = true" in err["hint"]
    assert not (p / ".zagi" / "env.lock").exists()
    (p / ".zagi" / "env.toml").write_text('[tools]\nterraform = { attr = "terraform" }\n'
                                          "[nix]\nallow_unfree = true\n")
    z("sync", cwd=p)
    lock = json.loads((p / ".zagi" / "env.lock").read_text())
    assert lock["nixpkgs_config"] == {"allowUnfree": True}
    assert tool_output(p, "terraform", "--version") == "Terraform v1.9.5"


def test_insecure_packages_only_as_env_toml_permits_them(tmp_path: Path,
                                                         z: Callable[..., Ran]) -> None:
    """nixpkgs refuses a package marked insecure unless config.permittedInsecurePackages
    names it; zagi passes that only from env.toml's [nix] permitted_insecure."""
    p = make_project(tmp_path / "p", '[system]\npackages = ["openssl_1_1"]\n')
    refused = z("lock", "--json", cwd=p, check=False)
    assert refused.code != 0
    err = refused.json()
    assert "marked as insecure" in err["error"] and "permitted_insecure" in err["hint"]
    assert not (p / ".zagi" / "env.lock").exists()
    (p / ".zagi" / "env.toml").write_text('[system]\npackages = ["openssl_1_1"]\n'
                                          '[nix]\npermitted_insecure = ["ssl-1.1.1w"]\n')
    z("sync", cwd=p)
    lock = json.loads((p / ".zagi" / "env.lock").read_text())
    assert lock["nixpkgs_config"] == {"permittedInsecurePackages": ["ssl-1.1.1w"]}
    assert lock["packages"]["openssl_1_1"]["version"] == "1.1.1w"
    assert (p / ".zagi" / "env" / "include" / "openssl.h").exists()
