"""The bench scripts keep working (tiny sizes; the real figures come from running them)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, require


def bench(*args: str) -> str:
    cp = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                        timeout=300, check=True)
    return cp.stdout


def test_startup_bench_prints_ratio() -> None:
    out = bench("bench/startup.py", "--runs", "3")
    assert "python -c pass" in out and "zagi --version" in out and "x   target" in out


def test_catalog_bench_prints_cost_and_coverage() -> None:
    out = bench("bench/catalog.py", "--runs", "2")
    assert "MB (target <= 2 MB)" in out and "the catalog (load + resolve" in out
    assert "(target <= 20 ms)" in out
    node = next(ln for ln in out.splitlines() if ln.startswith("node "))
    assert all(f" {line}," in node or f" {line} " in node for line in ("22", "24"))


def test_init_tree_bench_prints_floor_and_ratio() -> None:
    require("git")
    out = bench("bench/init_tree.py", "--files", "2000", "--runs", "2")
    assert "git ls-files | wc -l" in out and "zagi init --dry-run" in out
    assert "2004 files tracked by git" in out or "files tracked by git" in out


def test_hook_bench_prints_per_prompt_cost_and_direnv_ratio() -> None:
    require("direnv")
    require("nix-store")
    out = bench("bench/hook.py", "--prompts", "200", "--calls", "5", "--repeat", "1", "--no-mise")
    assert "us/prompt" in out and "zagi enter + leave" in out
    assert "direnv export bash" in out and "faster" in out


def test_sync_bench_prints_ratio() -> None:
    require("nix-store")
    out = bench("bench/sync.py", "--runs", "3")
    assert "zagi sync (cached)" in out and "x   target" in out


def test_cache_bench_prints_throughput_and_ratios() -> None:
    require("nix-store")
    out = bench("bench/cache.py", "--mb", "8")
    assert "zagi publish file://" in out and "MB/s" in out and "x the time" in out


def test_publish_soak_stays_consistent() -> None:
    """The crash-safety soak, at a smaller count in CI (the full run is 50 trials)."""
    require("nix-store")
    out = bench("bench/soak_publish.py", "--trials", "8", "--mb", "16")
    assert "0 inconsistent caches" in out and "PASS crash safety" in out


def test_clone_bench_reports_resolution_minus_git() -> None:
    require("nix-store")
    require("git")
    out = bench("bench/clone.py", "--runs", "1")
    assert "of which git clone" in out and "0 built" in out


def test_log_bench_prints_time_and_ratio_to_git() -> None:
    require("git")
    out = bench("bench/log.py", "--commits", "400", "--runs", "1")
    assert "zagi log -n 100:" in out and "zagi = " in out and "5 commits with an env change" in out


def test_services_bench_prints_ratio_against_pg_ctl() -> None:
    require("nix-store")
    out = bench("bench/services.py", "--runs", "1")
    assert "pg_ctl start -w" in out and "zagi up -d postgres (warm)" in out and "x   target" in out


def test_server_bench_prints_push_and_clone_ratios() -> None:
    require("git")
    out = bench("bench/server.py", "--commits", "200", "--runs", "1")
    assert "zagi push (git-remote-zagi)" in out and "zagi clone (git-remote-zagi)" in out
    assert out.count("ratio") == 2


def test_mirror_bench_prints_jobs_per_minute_and_steps() -> None:
    require("nix-store")
    require("git")
    out = bench("bench/mirror.py", "--repos", "2")
    assert "2/2 published" in out and "jobs/min" in out and "median per step: clone" in out
    assert "2 workers vs 1:" in out
