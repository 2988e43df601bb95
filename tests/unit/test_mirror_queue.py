"""The mirror's directory queue: one job per (URL, REV), one worker per claim, a crashed
worker's job taken again after its lease, and index keys per repository."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mirror import queue as q
from zagi.cache.mirrors import entry_key, index_prefix
from zagi.core.errors import BadInput


def test_jobs_are_one_per_url_and_rev(tmp_path: Path) -> None:
    dq = q.DirQueue(tmp_path)
    assert dq.add(q.Job.of("https://github.com/acme/web")) is True
    assert dq.add(q.Job.of("https://github.com/acme/web")) is False
    assert dq.add(q.Job.of("https://github.com/acme/web@v2")) is True
    assert q.Job.of("https://github.com/acme/web@v2").rev == "v2"
    with pytest.raises(BadInput):
        q.Job.of("--upload-pack=evil")
    assert dq.pending() == 2


def test_a_claim_is_exclusive_and_a_dead_workers_lease_runs_out(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    dq = q.DirQueue(tmp_path)
    dq.add(q.Job.of("file:///r/a"))
    first = dq.claim()
    assert first is not None and first.attempts == 1
    assert dq.claim() is None  # running, lease alive
    old = time.time() - q.LEASE - 1
    os.utime(tmp_path / "running" / f"{first.id}.json", (old, old))  # its worker died
    again = dq.claim()
    assert again is not None and again.id == first.id and again.attempts == 2
    dq.finish(again, {"state": "published"})
    assert dq.pending() == 0 and dq.jobs()[0]["state"] == "published"
    assert dq.retry(first.id) and dq.pending() == 1


def test_index_keys_name_host_owner_and_repo() -> None:
    assert index_prefix("https://github.com/Acme/web.git") == "mirrors/github.com/Acme/web"
    assert index_prefix("file:///src/acme/web") == "mirrors/file/acme/web"
    assert entry_key("https://gitlab.com/a/b", "c" * 40).endswith("/a/b/" + "c" * 40 + ".json")


def test_known_reads_an_index_and_ignores_what_is_not_an_entry(tmp_path: Path) -> None:
    import json

    from zagi.cache import mirrors
    from zagi.storage import open_url

    url, cache = "https://github.com/acme/web", f"file://{tmp_path / 'c'}"
    st = open_url(cache)
    ok = {"commit": "a" * 40, "status": "published", "env_toml": "", "env_lock": "",
          "env_id": "e1"}
    st.put(mirrors.entry_key(url, "a" * 40), json.dumps(ok).encode())
    st.put(mirrors.entry_key(url, "b" * 40), json.dumps(
        {"commit": "b" * 40, "status": "failed", "error": "tool check failed: node"}).encode())
    st.put(f"{mirrors.index_prefix(url)}/latest.json", json.dumps(ok).encode())
    st.put(f"{mirrors.index_prefix(url)}/garbage.json", b"{not json")
    got = mirrors.known(url, cache)
    assert got["latest"] == "a" * 40
    assert sorted((c["commit"][0], c["status"]) for c in got["commits"]) == \
        [("a", "published"), ("b", "failed")]
    found = mirrors.find(url, "b" * 40, [cache])  # b failed: the latest published instead
    assert found is not None and found.commit == "a" * 40 and not found.exact
    assert mirrors.find("https://github.com/other/x", "a" * 40, [cache]) is None
