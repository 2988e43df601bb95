"""Progress bars for people (rich), fed by the use-cases' Progress protocol
(zagi/env/progress.py). Silent when stderr is not a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType

    from rich.console import Console
    from rich.progress import Progress


class BuildProgress:
    """A rich progress bar for Nix builds and fetches."""

    def __init__(self, con: Console, title: str = "Resolving env...") -> None:
        self.con = con
        self.said: list[str] = []
        self.bar: Progress | None = None
        if not con.is_terminal:
            return  # no bar to draw: skip importing rich.progress (~15 ms of every clone)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[current]}"), console=con, transient=True)
        self.task = self.bar.add_task(title, total=None, current="")

    def __enter__(self) -> BuildProgress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()

    def plan(self, builds: int, fetches: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, total=builds + fetches or None,
                            description=f"Building {builds}, fetching {fetches}")

    def event(self, kind: str, path: str) -> None:
        if self.bar is not None:
            name = path.rsplit("/", 1)[-1].split("-", 1)[-1].removesuffix(".drv")
            self.bar.update(self.task, advance=1, current=f"{kind} {name}")

    def note(self, text: str) -> None:
        """Printed at once (above the bar); remembered so the summary does not repeat it."""
        self.said.append(text)
        self.con.print(f"note: {text}", markup=False, highlight=False)
