"""What long-running use-cases report while they work; the CLI renders it (apps never print)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def plan(self, builds: int, fetches: int) -> None:
        """Nix will build `builds` derivations and fetch `fetches` paths."""

    def event(self, kind: str, path: str) -> None:
        """Nix started building ("build") or fetching ("fetch") `path`."""

    def note(self, text: str) -> None:
        """Something the user should hear now, before the work it concerns (a cache that
        cannot be used, and the fix)."""


class Silent:
    def plan(self, builds: int, fetches: int) -> None:
        pass

    def event(self, kind: str, path: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass
