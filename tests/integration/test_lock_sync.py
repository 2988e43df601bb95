"""init -> lock -> sync -> switch -> gc, with the real Nix building the stand-in package set."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Ran, run_zagi, zagi_exe
from tests.integration.conftest import STANDIN, make_project, tool_output
from zagi.core.layout import env_id_of

pytestmark = pytest.mark.integration

NODE20 = 'schema = 1\n[tools]\nnode = "20"  # keep\n[system]\npackages = ["libpq"]\n'


def lock_of(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project / ".zagi" / "env.lock").read_text())
    return data


def test_init_lock_sync_runs_the_locked_tool(tmp_path: Path, z: Callable[..., Ran]) -> None:
    (tmp_path / ".nvmrc").write_text("20\n")
    (tmp_path / "package.json").write_text('{"packageManager": "pnpm@9.1.0"}')
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: postgres:16\n")
    z("init", str(tmp_path))
    z("lock", cwd=tmp_path)
    lock = lock_of(tmp_path)
    assert lock["packages"]["node"] == {"attr": "nodejs_20", "kind": "tool", "nixpkgs": "rev-b",
                                        "request": "20", "version": "20.12.2"}
    system = next(iter(lock["systems"]))
    closure = lock["systems"][system]["closure"]
    assert closure and all(p["narHash"].startswith("sha256:") and p["narSize"] > 0 for p in closure)
    real = subprocess.run(["nix-store", "-q", "--hash", closure[0]["path"]], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert real == closure[0]["narHash"]
    ran = z("sync", cwd=tmp_path)
    assert "Resolving env..." in ran.out
    assert tool_output(tmp_path, "node", "--version") == "v20.12.2"
    assert tool_output(tmp_path, "pnpm", "--version") == "9.1.0"
    assert tool_output(tmp_path, "postgres", "--version") == "postgres (PostgreSQL) 16.2"
    again = z("sync", cwd=tmp_path)
    assert "cached" in again.out
    mount = (tmp_path / ".zagi" / "env").readlink()
    assert str(mount) == lock["systems"][system]["out"]
    assert (tmp_path / ".zagi" / ".gitignore").read_text().count("/env") == 1


def test_rust_is_rustc_and_cargo_from_one_revision(tmp_path: Path, z: Callable[..., Ran]) -> None:
    """nixpkgs ships rustc and cargo as two packages; `rust` must bring both, or the env
    has a compiler and no build tool (the stand-in splits them as nixpkgs does)."""
    p = make_project(tmp_path, 'schema = 1\n[tools]\nrust = "1.79"\n')
    z("lock", cwd=p)
    assert lock_of(p)["packages"]["rust"] == {"attr": "rustc", "with": ["cargo"], "kind": "tool",
                                              "nixpkgs": "rev-b", "request": "1.79",
                                              "version": "1.79.0"}
    z("sync", cwd=p)
    assert tool_output(p, "rustc", "--version") == "rustc 1.79.0"
    assert tool_output(p, "cargo", "--version") == "cargo 1.79.0"
    bins = p / ".zagi" / "env" / "bin"
    assert (bins / "rustc").resolve().parent.parent != (bins / "cargo").resolve().parent.parent


C_PROGRAM = """#include <cairo.h>
#include <pixman.h>
#include <stdio.h>
int main(void) { printf("%s %d\\n", cairo_VERSION, cairo_ok() + pixman_1_ok()); return 0; }
"""


def test_a_c_program_compiles_links_and_runs_against_a_library_and_what_it_propagates(
        tmp_path: Path, z: Callable[..., Ran]) -> None:
    """Multi-output libraries as nixpkgs has them: cairo's headers and .pc only in its dev
    output, its .so only in out, and pixman (which cairo.pc Requires) reachable only
    through cairo.dev's propagated-build-inputs. With the env's activation alone,
    pkg-config, the compiler and the linker find both, and the program runs outside the
    env (no LD_LIBRARY_PATH) because the link recorded the env's LD_RUN_PATH."""
    if shutil.which("cc") is None or shutil.which("pkg-config") is None:
        pytest.fail("cc and pkg-config are needed (bash scripts/setup.sh installs them)")
    p = make_project(tmp_path / "p", 'schema = 1\n[system]\npackages = ["cairo"]\n')
    z("sync", cwd=p)
    env_dir = p / ".zagi" / "env"
    assert (env_dir / "include" / "cairo.h").exists() and (env_dir / "lib" / "libcairo.so").exists()
    assert not (env_dir / "lib" / "libpixman-1.so").exists()  # propagated, not linked
    act = json.loads(z("env", "--json", cwd=p).out)
    env = {**os.environ, **act["set"]}
    for var, dirs in act["prepend"].items():
        env[var] = ":".join([*dirs, *filter(None, [os.environ.get(var)])])
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "cairo"], env=env,
                           capture_output=True, text=True)
    assert flags.returncode == 0, flags.stderr
    assert "-lcairo" in flags.stdout and "-lpixman-1" in flags.stdout
    (tmp_path / "main.c").write_text(C_PROGRAM)
    built = subprocess.run(["sh", "-c", f"cc main.c {flags.stdout.strip()} -o main"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LD_")}
    ran = subprocess.run([str(tmp_path / "main")], env=clean, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "1.18.0 84"


def _wheel(where: Path) -> Path:
    """A pure-Python wheel of one module, made here: pip installs it with no index."""
    import zipfile

    whl = where / "hello_zagi-1.0-py3-none-any.whl"
    files = {
        "hello_zagi.py": "GREETING = 'hello from a wheel'\n",
        "hello_zagi-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: hello-zagi\nVersion: 1.0\n",
        "hello_zagi-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
                                          "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + "hello_zagi-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(whl, "w") as zf:
        for name, text in {**files, "hello_zagi-1.0.dist-info/RECORD": record}.items():
            zf.writestr(name, text)
    return whl


def test_python_gets_a_project_venv_whose_pip_installs_requirements(
        tmp_path: Path, z: Callable[..., Ran], zenv: dict[str, str]) -> None:
    """Python as nixpkgs ships it has no pip and is EXTERNALLY-MANAGED (the stand-in's
    python311 is Debian's real CPython, which is both). Sync makes the project a venv with
    that interpreter, outside the repository, and activation puts it first: `pip install
    -r requirements.txt` and `python -m venv` work, and a repository file named like the
    venv module is never imported while the venv is made."""
    p = make_project(tmp_path / "p", '[tools]\npython = "3.11.2"\n')
    _wheel(p)
    (p / "requirements.txt").write_text("hello_zagi-1.0-py3-none-any.whl\n")
    (p / "venv.py").write_text("open('HOSTILE-RAN', 'w').close()\n")
    z("sync", cwd=p)
    assert not (p / "HOSTILE-RAN").exists()
    (p / "venv.py").unlink()  # (it would shadow the user's own `python -m venv` below)
    store_py = p / ".zagi" / "env" / "bin" / "python3"
    bare = subprocess.run([str(store_py), "-m", "pip", "--version"], capture_output=True,
                          text=True)
    assert bare.returncode != 0 and "No module named pip" in bare.stderr
    assert list((p / ".zagi" / "env" / "lib").glob("python3.11/EXTERNALLY-MANAGED"))
    act = json.loads(z("env", "--json", cwd=p).out)
    venv = Path(act["set"]["VIRTUAL_ENV"])
    assert act["prepend"]["PATH"][0] == str(venv / "bin")
    assert venv.is_relative_to(Path(zenv["ZAGI_HOME"])) and not venv.is_relative_to(p)
    z("run", "--", "pip", "install", "--no-index", "-r", "requirements.txt", cwd=p)
    code = "import hello_zagi, sys; print(hello_zagi.GREETING, sys.prefix)"
    ran = z("run", "--", "python", "-c", code, cwd=p)
    assert ran.out.strip() == f"hello from a wheel {venv}"
    z("run", "--", "python", "-m", "venv", str(tmp_path / "own"), cwd=p)
    assert "pip" in subprocess.run([str(tmp_path / "own" / "bin" / "pip"), "--version"],
                                   capture_output=True, text=True, check=True).stdout
    # A later sync keeps the venv and what was installed into it ...
    z("sync", cwd=p)
    assert z("run", "--", "python", "-c", code, cwd=p).out.strip().startswith("hello")
    # ... unless it was made by another interpreter (the lock's python changed): remade.
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace("home = ", "home = /elsewhere"))
    (p / ".zagi" / ".synced").unlink()
    again = z("sync", cwd=p)
    assert "made the project venv again" in again.err + again.out
    gone = z("run", "--", "python", "-c", "import hello_zagi", cwd=p, check=False)
    assert gone.code != 0 and "No module named 'hello_zagi'" in gone.err


def test_a_python_project_manager_owns_its_venv(tmp_path: Path, z: Callable[..., Ran]) -> None:
    """uv (poetry, pdm, pipenv) makes and owns the project's venv: zagi makes none."""
    p = make_project(tmp_path / "p", '[tools]\npython = "3.11.2"\nuv = "0.4"\n')
    z("sync", cwd=p)
    act = json.loads(z("env", "--json", cwd=p).out)
    assert "VIRTUAL_ENV" not in act["set"]
    assert z("run", "--", "sh", "-c", "command -v python3", cwd=p).out.startswith("/nix/store/")


def test_env_exposes_headers_pkgconfig_and_activation(tmp_path: Path, z: Callable[..., Ran],
                                                      zenv: dict[str, str]) -> None:
    p = make_project(tmp_path, NODE20 + '[env]\nAPP_ENV = "dev it\'s"\n')
    ran = z("sync", "--json", cwd=p)
    data = json.loads(ran.out)
    env = p / ".zagi" / "env"
    assert (env / "include" / "libpq.h").exists()
    assert "Version: 16.2" in (env / "lib" / "pkgconfig" / "pq.pc").read_text()
    act = Path(zenv["ZAGI_HOME"]) / "envs" / data["env_id"] / "activate.sh"
    out = subprocess.run(["bash", "-c", f'PATH=/usr/bin:/bin; . "{act}"; node --version; '
                                        'echo "$APP_ENV"; echo "$CPATH"; echo "$MANPATH"'],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "v20.12.2"
    assert out[1] == "dev it's"
    assert out[2] == f"{data['out']}/include"
    assert out[3].startswith(f"{data['out']}/share/man:")


def test_editing_the_spec_switches_the_env(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path, NODE20)
    z("sync", cwd=p)
    assert tool_output(p, "node", "--version") == "v20.12.2"
    ran = z("add", "node@22", "--json", "-C", str(p))
    assert json.loads(ran.out)["relocked"] is True
    assert lock_of(p)["packages"]["node"]["version"] == "22.2.0"
    z("sync", cwd=p)
    assert tool_output(p, "node", "--version") == "v22.2.0"
    assert '# keep' in (p / ".zagi" / "env.toml").read_text()


def test_lock_check_catches_drift_and_writes_nothing(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path, NODE20)
    z("lock", cwd=p)
    assert z("lock", "--check", cwd=p).code == 0
    before = (p / ".zagi" / "env.lock").read_bytes()
    (p / ".zagi" / "env.toml").write_text(NODE20.replace('"20"', '"22"') + '[services]\npostgres = "16"\n')
    ran = z("lock", "--check", cwd=p, check=False)
    assert ran.code == 1
    assert "node: 20 -> 22" in ran.err and "postgres: added (16)" in ran.err
    assert (p / ".zagi" / "env.lock").read_bytes() == before
    frozen = z("sync", "--frozen", cwd=p, check=False)
    assert frozen.code == 1 and "--frozen" in frozen.err
    assert (p / ".zagi" / "env.lock").read_bytes() == before


def test_multi_revision_env(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path, 'schema = 1\n[tools]\nnode = "18"\nzig = "0.15"\n')
    z("sync", cwd=p)
    pk = lock_of(p)["packages"]
    assert (pk["node"]["nixpkgs"], pk["zig"]["nixpkgs"]) == ("rev-a", "rev-b")
    assert set(lock_of(p)["nixpkgs"]) == {"rev-a", "rev-b"}
    assert tool_output(p, "node", "--version") == "v18.19.1"
    assert tool_output(p, "zig", "version") == "0.15.1"


def test_second_project_reuses_store_paths(tmp_path: Path, z: Callable[..., Ran]) -> None:
    a = make_project(tmp_path / "a", NODE20)
    b = make_project(tmp_path / "b", '[tools]\nnode = "20"\n[system]\npackages = ["libpq"]\n')
    c = make_project(tmp_path / "c", NODE20.replace('["libpq"]', '["libpq", "openssl"]'))
    z("sync", cwd=a)
    same = json.loads(z("sync", "--json", cwd=b).out)
    assert same["built"] == []  # identical env: nothing to build
    assert (b / ".zagi" / "env").readlink() == (a / ".zagi" / "env").readlink()
    more = json.loads(z("sync", "--json", cwd=c).out)
    # Only the new library and the new env composition are built; node and libpq are reused.
    assert all("nodejs" not in d and "-pq-" not in d for d in more["built"]), more["built"]
    node = Path(".zagi") / "env" / "bin" / "node"
    assert (c / node).resolve() == (a / node).resolve()


def test_corrupted_lock_is_refused(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path, NODE20)
    z("lock", cwd=p)
    lock = lock_of(p)
    system = next(iter(lock["systems"]))
    victim = lock["systems"][system]["closure"][0]
    victim["narHash"] = "sha256:" + "0" * 52
    (p / ".zagi" / "env.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    ran = z("sync", "--frozen", cwd=p, check=False)
    assert ran.code == 2
    assert victim["path"] in ran.err and "refusing" in ran.err
    assert not (p / ".zagi" / "env").exists()
    (p / ".zagi" / "env.lock").write_text("{ not json")
    bad = z("sync", "--frozen", cwd=p, check=False)
    assert bad.code == 2 and "env.lock" in bad.err and "zagi lock" in bad.err


def test_unknown_versions_and_tools_list_alternatives(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path, '[tools]\nnode = "21"\n')
    ran = z("lock", cwd=p, check=False)
    assert ran.code == 2
    assert "node '21'" in ran.err and "18.19.1, 20.11.1, 20.12.2, 22.2.0" in ran.err
    assert not (p / ".zagi" / "env.lock").exists()
    (p / ".zagi" / "env.toml").write_text('[tools]\npython = "3.12.1"\n')
    exact = z("lock", cwd=p, check=False)  # the nearest of its minor, said so
    assert exact.code == 0 and "python 3.12.1 is not in the catalog; using 3.12.2" in exact.err
    (p / ".zagi" / "env.toml").write_text('[tools]\npython = "3.10.1"\n')
    minorless = z("lock", cwd=p, check=False)
    assert minorless.code == 2 and "no 3.10.x; nearest: " in minorless.err
    (p / ".zagi" / "env.toml").write_text('[system]\npackages = ["libpqq"]\n')
    typo = z("lock", cwd=p, check=False)
    assert typo.code == 2 and 'did you mean "libpq"' in typo.err


def test_lock_for_another_system_evaluates_without_building(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path, NODE20)
    z("lock", "--system", "aarch64-darwin", cwd=p)
    systems = lock_of(p)["systems"]
    assert systems["aarch64-darwin"]["out"].startswith("/nix/store/")
    assert "closure" not in systems["aarch64-darwin"]
    here = next(s for s in systems if s != "aarch64-darwin")
    assert systems[here]["closure"]
    out = systems["aarch64-darwin"]["out"]
    valid = subprocess.run(["nix-store", "--check-validity", out], capture_output=True)
    assert valid.returncode != 0  # evaluated, never built


def test_gc_removes_old_envs_and_nix_frees_their_paths(tmp_path: Path, z: Callable[..., Ran],
                                                       zenv: dict[str, str]) -> None:
    old = make_project(tmp_path / "old", '[tools]\nnode = "18"\n[system]\npackages = ["sqlite"]\n')
    live = make_project(tmp_path / "live", NODE20)
    old_id = json.loads(z("sync", "--json", cwd=old).out)["env_id"]
    live_id = json.loads(z("sync", "--json", cwd=live).out)["env_id"]
    old_out = str((old / ".zagi" / "env").readlink())
    old_closure = [p["path"] for p in next(iter(lock_of(old)["systems"].values()))["closure"]]
    month_ago = time.time() - 40 * 86400
    os.utime(Path(zenv["ZAGI_HOME"]) / "envs" / old_id / "last-used", (month_ago, month_ago))
    listed = {e["env_id"]: e for e in json.loads(z("envs", "--json").out)["envs"]}
    assert listed[old_id]["projects"] == [str(old)] and listed[old_id]["closure_size"] > 0
    dry = json.loads(z("gc", "--older-than", "30d", "--dry-run", "--json").out)
    assert [e["env_id"] for e in dry["removed"]] == [old_id]
    assert (Path(zenv["ZAGI_HOME"]) / "roots" / old_id).is_symlink()
    z("gc", "--older-than", "30d", "--store")
    assert not Path(old_out).exists()
    # Every other path of the old env is gone too, unless another live root (another
    # project on this machine, e.g. another test's) still holds it.
    for path in old_closure:
        if Path(path).exists():
            roots = subprocess.run(["nix-store", "--query", "--roots", path], capture_output=True,
                                   text=True, check=True).stdout
            assert roots.strip(), f"{path} survived GC with no root holding it"
    assert tool_output(live, "node", "--version") == "v20.12.2"  # the live env survives
    assert live_id in {e["env_id"] for e in json.loads(z("envs", "--json").out)["envs"]}


def test_concurrent_syncs_and_kill_9_never_break_the_mount(tmp_path: Path, zenv: dict[str, str],
                                                            z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path, NODE20)
    env = {**os.environ, **zenv}
    procs = [subprocess.Popen([zagi_exe(), "sync"], cwd=p, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(3)]
    assert [pr.wait(timeout=300) for pr in procs] == [0, 0, 0]
    first = (p / ".zagi" / "env").readlink()
    (p / ".zagi" / "env.toml").write_text(NODE20.replace('"20"', '"22"'))
    for delay in (0.05, 0.15, 0.3, 0.6):
        pr = subprocess.Popen([zagi_exe(), "sync"], cwd=p, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        time.sleep(delay)
        pr.send_signal(signal.SIGKILL)
        pr.wait()
        mount = p / ".zagi" / "env"
        assert mount.is_symlink() and mount.resolve().is_dir()  # old or new, never broken
        assert not list((p / ".zagi").glob(".env.*.tmp"))
    z("sync", cwd=p)
    assert (p / ".zagi" / "env").readlink() != first
    assert tool_output(p, "node", "--version") == "v22.2.0"


def test_cached_sync_starts_no_nix_and_imports_nothing_heavy(tmp_path: Path, z: Callable[..., Ran],
                                                            zenv: dict[str, str]) -> None:
    p = make_project(tmp_path, NODE20)
    z("sync", cwd=p)
    env = {**os.environ, **zenv, "PATH": "/nonexistent"}  # no nix reachable at all
    code = "import sys; sys.argv=['zagi','sync']; from zagi.__main__ import main; main()"
    cp = subprocess.run([str(Path(zagi_exe()).parent / "python"), "-X", "importtime", "-c", code],
                        cwd=p, env=env, capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0 and "cached" in cp.stdout, cp.stderr[-2000:]
    mods = {line.split("|")[-1].strip() for line in cp.stderr.splitlines() if "|" in line}
    assert not {"typer", "pydantic", "tomlkit", "rich", "nixgen", "subprocess",
                "dataclasses", "inspect"} & mods


def test_fast_run_imports_nothing_heavy(tmp_path: Path, z: Callable[..., Ran],
                                       zenv: dict[str, str]) -> None:
    """`zagi run --` on a realized env execs at once; the project's service variables it
    adds must not cost an import of the services package or the CLI framework."""
    p = make_project(tmp_path, NODE20 + '[services]\nredis = { version = "7", port = 26397 }\n')
    z("sync", cwd=p)
    code = ("import sys; sys.argv=['zagi','run','--','sh','-c','echo $REDIS_URL']; "
            "from zagi.__main__ import main; main()")
    cp = subprocess.run([str(Path(zagi_exe()).parent / "python"), "-X", "importtime", "-c", code],
                        cwd=p, env={**os.environ, **zenv}, capture_output=True, text=True,
                        timeout=60)
    assert cp.returncode == 0 and cp.stdout.strip() == "redis://127.0.0.1:26397/0", cp.stderr[-2000:]
    mods = {line.split("|")[-1].strip() for line in cp.stderr.splitlines() if "|" in line}
    heavy = {"typer", "pydantic", "rich", "zagi.cli.main", "zagi.services",
             "zagi.services.kinds"} & mods
    assert not heavy, heavy


SYNC_KEYS = {"env_id", "out", "cached", "relocked", "built", "fetched", "source", "notes", "ms"}


def test_sync_json_has_the_same_keys_cached_or_not(tmp_path: Path, z: Callable[..., Ran]) -> None:
    """docs/cli.md promises one shape; the cached fast path used to drop three keys."""
    p = make_project(tmp_path, NODE20)
    first = json.loads(z("sync", "--json", cwd=p).out)
    cached = json.loads(z("sync", "--json", cwd=p).out)
    assert set(first) == set(cached) == SYNC_KEYS
    assert cached["cached"] is True and cached["built"] == [] and cached["env_id"] == first["env_id"]


def test_catalog_is_generated_from_the_standin_set(tmp_path: Path, z: Callable[..., Ran]) -> None:
    out = tmp_path / "catalog.json"
    z("catalog", "update", "--nixpkgs", str(STANDIN / "rev-a"), "--nixpkgs", str(STANDIN / "rev-b"),
      "--out", str(out))
    fresh = json.loads(out.read_text())
    committed = json.loads((STANDIN / "catalog.json").read_text())
    assert fresh["packages"] == committed["packages"], "fixtures/nixpkgs/catalog.json is stale"
    found = json.loads(z("catalog", "search", "node", "--json").out)
    assert [v["version"] for v in found["versions"]] == ["22.2.0", "20.12.2", "20.11.1", "18.19.1"]
    assert REPO.exists()


def test_escape_hatches_attr_and_revision_pin(tmp_path: Path, z: Callable[..., Ran]) -> None:
    p = make_project(tmp_path, 'schema = 1\n[tools]\nnode = "20"\n'
                               'kv = { attr = "valkey" }\n[nix]\nnixpkgs = "rev-a"\n')
    ran = z("lock", cwd=p, check=False)
    assert ran.code == 2  # kv comes from rev-a (the pin), which has no valkey
    assert "kv: attribute 'valkey' is not in nixpkgs revision rev-a" in ran.err
    (p / ".zagi" / "env.toml").write_text(
        'schema = 1\n[tools]\nnode = "20"\nkv = { attr = "valkey", nixpkgs = "rev-b" }\n'
        '[nix]\nnixpkgs = "rev-a"\n')
    z("sync", cwd=p)
    pk = lock_of(p)["packages"]
    assert (pk["node"]["version"], pk["node"]["nixpkgs"]) == ("20.11.1", "rev-a")  # pinned
    assert (pk["kv"]["attr"], pk["kv"]["nixpkgs"], pk["kv"]["version"]) == ("valkey", "rev-b", "8.0.1")
    assert tool_output(p, "valkey-server") == "8.0.1"
    assert tool_output(p, "node", "--version") == "v20.11.1"


def test_progress_on_a_terminal_and_quiet_in_a_pipe(tmp_path: Path, zenv: dict[str, str]) -> None:
    import itertools

    p = make_project(tmp_path, "")
    env = {**os.environ, **zenv, "TERM": "xterm", "COLUMNS": "120"}
    # Make sure there is something to build: lock an env, then delete its output again.
    # Other envs on this machine (older test runs, users) may keep one alive: try another.
    libs = ["sqlite", "openssl", "redis", "pkg-config", "libpq"]
    for n, combo in enumerate(c for k in (1, 2, 3) for c in itertools.combinations(libs, k)):
        spec = f"[tools]\ngo = \"1.21\"\n[system]\npackages = {json.dumps(list(combo))}\n"
        (p / ".zagi" / "env.toml").write_text(spec)
        assert subprocess.run([zagi_exe(), "lock"], cwd=p, env=env, capture_output=True).returncode == 0
        out = next(iter(lock_of(p)["systems"].values()))["out"]
        if subprocess.run(["nix-store", "--delete", out], capture_output=True).returncode == 0:
            break
        assert n < 20, "every candidate env is kept alive by some GC root"
    env.pop("NO_COLOR", None)
    tty = subprocess.run(["script", "-qec", f"{zagi_exe()} sync", "/dev/null"], cwd=p, env=env,
                         capture_output=True, text=True, timeout=300)
    assert tty.returncode == 0, tty.stdout
    assert "Building" in tty.stdout and "build zagi-env" in tty.stdout
    (p / ".zagi" / "env.toml").write_text('[tools]\ngo = "1.22"\n')
    piped = subprocess.run([zagi_exe(), "sync"], cwd=p, env=env, capture_output=True, text=True,
                           timeout=300)
    assert piped.returncode == 0
    assert "\x1b[" not in piped.stdout + piped.stderr and "Building" not in piped.stderr


def test_watch_keeps_the_env_in_step_and_stops_on_ctrl_c(tmp_path: Path, z: Callable[..., Ran],
                                                         zenv: dict[str, str]) -> None:
    p = tmp_path
    (p / ".nvmrc").write_text("20\n")
    (p / "package.json").write_text("{}")
    z("init", cwd=p)  # node = "20" with its evidence: an inferred entry
    env = {**os.environ, **zenv}
    w = subprocess.Popen([zagi_exe(), "watch", "--infer"], cwd=p, env=env, stderr=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, text=True)
    try:
        assert "watching" in (w.stderr.readline() if w.stderr else "")

        def wait_for(tool: str, version: str) -> None:
            for _ in range(150):
                exe = p / ".zagi" / "env" / "bin" / tool
                if exe.exists() and tool_output(p, tool, "--version") == version:
                    return
                time.sleep(0.2)
            raise AssertionError(f"watch never switched to {tool} {version}")

        wait_for("node", "v20.12.2")
        toml = p / ".zagi" / "env.toml"
        toml.write_text(toml.read_text().replace("[tools]\n", '[tools]\nuv = "0.4"\n'))
        wait_for("uv", "uv 0.4.18")  # an edit to env.toml: relocked and synced
        (p / ".nvmrc").write_text("22\n")
        wait_for("node", "v22.2.0")  # --infer: a version file re-infers env.toml, then syncs
        text = toml.read_text()
        assert 'node = "22" # .nvmrc:1 (pin)' in text
        assert 'uv = "0.4"' in text  # what the user wrote survives the re-inference
        assert tool_output(p, "uv", "--version") == "uv 0.4.18"
    finally:
        w.send_signal(signal.SIGINT)
        assert w.wait(timeout=30) == 0


def test_trust_survives_sync_recording_this_system(tmp_path: Path, z: Callable[..., Ran],
                                                   zenv: dict[str, str]) -> None:
    """A lock made elsewhere (no closure for this system): allow, then sync adds the closure
    (a new env id) — the project stays allowed; an edit to env.toml does not carry trust."""
    p = make_project(tmp_path, NODE20)
    z("lock", cwd=p)
    lock = lock_of(p)
    lock["systems"] = {"aarch64-darwin": {"out": "/nix/store/00000000000000000000000000000000-zagi-env"}}
    (p / ".zagi" / "env.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    z("allow", cwd=p)
    new_id = json.loads(z("sync", "--json", cwd=p).out)["env_id"]
    allowed = Path(zenv["ZAGI_HOME"]) / "allow" / new_id / str(p).replace("/", "%")
    assert allowed.exists()
    (p / ".zagi" / "env.toml").write_text(NODE20.replace('"20"', '"22"'))
    edited_id = json.loads(z("sync", "--json", cwd=p).out)["env_id"]
    assert not (Path(zenv["ZAGI_HOME"]) / "allow" / edited_id).exists()


def test_a_package_the_catalog_has_no_versions_for_is_locked_at_the_version_nix_reports(
        tmp_path: Path, zenv: dict[str, str]) -> None:
    # A catalog that records no sqlite versions (as the shipped one has none for vips):
    # asking for sqlite without a version must still lock, with the version Nix reads.
    standin = tmp_path / "nixpkgs"
    standin.mkdir()
    for part in ("lib", "rev-a", "rev-b"):
        (standin / part).symlink_to(STANDIN / part)
    doc = json.loads((STANDIN / "catalog.json").read_text())
    del doc["packages"]["sqlite"], doc["packages"]["redis"]
    (standin / "catalog.json").write_text(json.dumps(doc))
    env = {**zenv, "ZAGI_NIXPKGS": str(standin)}
    p = make_project(tmp_path / "p", 'schema = 1\n[tools]\nnode = "20"\n'
                                     '[system]\npackages = ["sqlite"]\n')
    ran = run_zagi("sync", cwd=p, env=env, timeout=300)
    assert ran.code == 0, ran.err
    sqlite = lock_of(p)["packages"]["sqlite"]
    assert (sqlite["attr"], sqlite["nixpkgs"], sqlite["version"]) == ("sqlite", "rev-b", "3.46.0")
    assert (p / ".zagi" / "env" / "include" / "sqlite3.h").exists()
    (p / ".zagi" / "env.toml").write_text('schema = 1\n[services]\nredis = "7"\n')
    ran = run_zagi("lock", cwd=p, env=env, timeout=300)
    assert ran.code == 2 and 'records no versions of redis, so ask for "latest"' in ran.err


def test_catalog_update_records_a_git_checkout_as_a_dated_fetchable_commit(
        tmp_path: Path, z: Callable[..., Ran]) -> None:
    # How a maintainer refreshes the shipped catalog: real nixpkgs checkouts are git
    # work trees, and the catalog must name their commits (not paths on one machine).
    checkout = tmp_path / "nixpkgs-25.05"
    shutil.copytree(STANDIN / "rev-b", checkout)
    shutil.copytree(STANDIN / "lib", tmp_path / "lib")  # rev-b imports ../lib
    git = ["git", "-C", str(checkout)]
    subprocess.run([*git, "init", "-q", "-b", "release-25.05"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x"],
                   check=True, env={**os.environ, "GIT_COMMITTER_DATE": "2025-06-01T12:00:00+02:00"})
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    out = tmp_path / "catalog.json"
    z("catalog", "update", "--nixpkgs", str(checkout), "--out", str(out))
    doc = json.loads(out.read_text())
    assert doc["revisions"] == [{
        "id": head[:12], "rev": head, "date": "2025-06-01T10:00:00Z", "branch": "release-25.05",
        "url": f"https://github.com/NixOS/nixpkgs/archive/{head}.tar.gz"}]
    assert {"version": "8.0.1", "attr": "valkey", "rev": head[:12]} in doc["packages"]["valkey"]


def test_an_unfetchable_nixpkgs_fails_clearly_and_writes_no_lock(tmp_path: Path,
                                                                   zenv: dict[str, str]) -> None:
    # Real nixpkgs revisions are tarballs fetched at lock time; offline, say so plainly.
    cat_dir = tmp_path / "cat"
    cat_dir.mkdir()
    url = f"file://{tmp_path}/missing/nixpkgs.tar.gz"
    (cat_dir / "catalog.json").write_text(json.dumps({
        "format": 1, "revisions": [{"id": "r1", "url": url, "rev": "a" * 40}],
        "packages": {"redis": [{"version": "7.2.4", "attr": "redis", "rev": "r1"}]}}))
    p = make_project(tmp_path / "p", 'schema = 1\n[services]\nredis = "7"\n')
    ran = run_zagi("lock", cwd=p, env={**zenv, "ZAGI_NIXPKGS": str(cat_dir)}, timeout=300)
    assert ran.code == 1
    assert f"error: could not fetch nixpkgs from {url}" in ran.err
    assert "hint: zagi lock downloads each nixpkgs revision once" in ran.err
    assert "retrying" not in ran.err
    assert not (p / ".zagi" / "env.lock").exists()


def test_tampered_activation_data_is_not_applied(tmp_path: Path, z: Callable[..., Ran],
                                                 zenv: dict[str, str]) -> None:
    """activate.json under $ZAGI_HOME is re-checked before use: a reserved name written
    into it (by anything running as the user) is never applied, and sync rewrites it."""
    p = make_project(tmp_path, NODE20)
    z("sync", cwd=p)
    env_id = (p / ".zagi" / ".synced").read_text().split()[0]
    act_file = Path(zenv["ZAGI_HOME"]) / "envs" / env_id / "activate.json"
    act = json.loads(act_file.read_text())
    act["set"]["LD_PRELOAD"] = "/tmp/evil.so"
    act["prepend"]["PATH"].insert(0, "/tmp/evil-bin")
    act_file.chmod(0o644)
    act_file.write_text(json.dumps(act))
    out = z("run", "--", "sh", "-c", 'echo "[${LD_PRELOAD-}]"; echo "$PATH"', cwd=p).out
    assert out.splitlines()[0] == "[]" and "/tmp/evil-bin" not in out
    assert "LD_PRELOAD" not in act_file.read_text()  # the full sync wrote it anew


def test_a_sync_that_failed_halfway_is_never_called_cached(tmp_path: Path, z: Callable[..., Ran],
                                                            zenv: dict[str, str]) -> None:
    """A full disk between the GC root and the activation files used to leave an env that
    every later sync called "cached" while `zagi run` and the hook refused it."""
    p = make_project(tmp_path, NODE20)
    z("lock", cwd=p)
    env_id = env_id_of((p / ".zagi" / "env.lock").read_bytes())
    blocker = Path(zenv["ZAGI_HOME"]) / "envs" / env_id / "activate.sh"
    blocker.mkdir(parents=True)  # a directory where a file must go: the write fails
    failed = z("sync", cwd=p, check=False)
    assert failed.code != 0
    assert not (Path(zenv["ZAGI_HOME"]) / "roots" / env_id).exists()  # not marked usable
    blocker.rmdir()
    again = json.loads(z("sync", "--json", cwd=p).out)
    assert again["cached"] is False
    assert z("run", "--", "node", "--version", cwd=p).out.strip() == "v20.12.2"
