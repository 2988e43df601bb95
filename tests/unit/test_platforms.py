"""What zagi says on systems other than this one (macOS users run it too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zagi.core.errors import IsolationError
from zagi.drivers import sandbox


def test_agent_on_macos_is_refused_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "darwin")
    with pytest.raises(IsolationError) as err:
        sandbox.check(sandbox.Policy(project=Path("/tmp/p"), cwd=Path("/tmp/p")))
    assert "not supported on this system (darwin)" in err.value.message
    assert err.value.exit_code == 2
