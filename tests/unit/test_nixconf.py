"""`zagi cache trust` writes into the daemon's nix.conf as root: nothing it is given may
become a setting of its own (a post-build-hook runs as root on every build)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zagi.cache import nixconf
from zagi.core.errors import BadInput

KEY = "team-1:" + "A" * 43 + "="


@pytest.mark.parametrize("url", ["https://x.example\npost-build-hook = /tmp/evil",
                                 "https://x.example post-build-hook=/tmp/evil",
                                 "https://x.example\r\nallowed-users = *", "javascript:alert(1)",
                                 "", "https://x.example/#\x00"])
def test_a_url_that_is_not_one_url_is_refused_and_nothing_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("NIX_CONF_DIR", str(tmp_path))
    (tmp_path / "nix.conf").write_text("sandbox = true\n")
    with pytest.raises(BadInput):
        nixconf.trust(url, KEY)
    assert (tmp_path / "nix.conf").read_text() == "sandbox = true\n"


def test_a_cache_url_is_written_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIX_CONF_DIR", str(tmp_path))
    for _ in range(2):
        nixconf.trust("s3://bucket/cache?region=eu-west-1", KEY)
    text = (tmp_path / "nix.conf").read_text()
    assert text.count("extra-trusted-substituters = s3://bucket/cache?region=eu-west-1\n") == 1
