"""Read-only, bounded, symlink-safe access to a repository for detectors.

Detectors never open files themselves: they ask this object, which
- refuses paths that resolve outside the repo (a `.nvmrc` symlinked to /etc/passwd),
- refuses non-regular files (a FIFO named package.json would block forever),
- never reads more than a limit (a 2 GB package.json is reported, not read),
- turns every problem into a warning instead of an exception.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator

MAX_TEXT = 4 << 20  # manifests and lockfile heads; bigger files are reported, not read
# Directories that hold dependencies, build output or VCS data, never a project of its own.
SKIP_DIRS = frozenset({
    "node_modules", "bower_components", "jspm_packages", "vendor", "target", "dist",
    "build", "out", "_build", "deps", "venv", "env", "__pycache__", "site-packages",
    "Pods", "coverage", "tmp", "examples", "example", "samples", "fixtures",
    "testdata", "test-fixtures", "third_party", "third-party",
})  # fmt: skip


class RepoFS:
    def __init__(self, root: str, warn: Callable[[str], None]) -> None:
        self.root = os.path.realpath(root)
        self._warn = warn
        # Several detectors read the same manifest; each file is read (and warned about) once.
        self._texts: dict[tuple[str, int, bool], str | None] = {}
        self._real_dirs: dict[str, str] = {}

    # --- paths ---------------------------------------------------------------

    def _real_dir(self, rel_dir: str) -> str:
        if rel_dir not in self._real_dirs:
            self._real_dirs[rel_dir] = os.path.realpath(os.path.join(self.root, rel_dir))
        return self._real_dirs[rel_dir]

    def _inside(self, rel: str) -> str | None:
        """Absolute path for `rel` if it resolves inside the repo, else None (warned).

        Directory resolutions are cached; only a symlinked final component needs a
        fresh realpath, which keeps this cheap on monorepos with hundreds of projects.
        """
        path = os.path.join(self.root, rel)
        head, _, _name = rel.rpartition("/")
        real = (os.path.realpath(path) if os.path.islink(path)
                else os.path.join(self._real_dir(head), _name))
        if real != self.root and not real.startswith(self.root + os.sep):
            self._warn(f"{rel}: symlink to outside the repository; ignored")
            return None
        return path

    def exists(self, rel: str) -> bool:
        return os.path.lexists(os.path.join(self.root, rel))

    def is_dir(self, rel: str) -> bool:
        path = os.path.join(self.root, rel)
        return os.path.isdir(path) and not os.path.islink(path)

    def listdir(self, rel: str) -> list[str]:
        """Names in a directory (not following a symlinked directory), sorted."""
        if not self.is_dir(rel):
            return []
        try:
            return sorted(n for n in os.listdir(os.path.join(self.root, rel)) if n.isprintable())
        except OSError:
            return []

    # --- reading -------------------------------------------------------------

    def _read(self, rel: str, limit: int, whole: bool) -> bytes | None:
        full = os.path.join(self.root, rel)
        if not os.path.lexists(full):
            return None
        path = self._inside(rel)
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            self._warn(f"{rel}: cannot read ({exc.strerror}); ignored")
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                self._warn(f"{rel}: not a regular file; ignored")
                return None
            if whole and st.st_size > limit:
                self._warn(f"{rel}: too large ({st.st_size} bytes, limit {limit}); ignored")
                return None
            chunks: list[bytes] = []
            remaining = limit
            while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
                chunks.append(chunk)
                remaining -= len(chunk)
            return b"".join(chunks)
        except OSError as exc:
            self._warn(f"{rel}: cannot read ({exc.strerror}); ignored")
            return None
        finally:
            os.close(fd)

    def text(self, rel: str, limit: int = MAX_TEXT) -> str | None:
        """The whole file as text, or None if missing/unsafe/too large/binary (warned)."""
        key = (rel, limit, True)
        if key not in self._texts:
            raw = self._read(rel, limit, whole=True)
            self._texts[key] = None if raw is None else self._decode(rel, raw)
        return self._texts[key]

    def head(self, rel: str, size: int = 64 << 10) -> str | None:
        """The first `size` bytes as text: enough for lockfile headers of any size."""
        key = (rel, size, False)
        if key not in self._texts:
            raw = self._read(rel, size, whole=False)
            # The cut may split a UTF-8 sequence; _decode drops the partial tail.
            self._texts[key] = (None if raw is None
                                else self._decode(rel, raw, partial=len(raw) >= size))
        return self._texts[key]

    def _decode(self, rel: str, raw: bytes, partial: bool = False) -> str | None:
        if b"\x00" in raw:
            self._warn(f"{rel}: binary content, expected text; ignored")
            return None
        try:
            return raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            if partial and exc.start >= len(raw) - 4:
                return raw[: exc.start].decode("utf-8").removeprefix("\ufeff")
            line = raw[: exc.start].count(b"\n") + 1
            self._warn(f"{rel}:{line}: not UTF-8 text; ignored")
            return None

    # --- discovery -----------------------------------------------------------

    def walk(self, max_depth: int) -> Iterator[tuple[str, frozenset[str]]]:
        """Yield (dir relative to root, names of its entries), root first, breadth-first.

        Symlinked directories are not entered (no loops, no escaping the repo);
        hidden and dependency/output directories are pruned; names that are not
        valid text (non-UTF-8 bytes) are skipped since no manifest has such a name.
        """
        queue: list[tuple[str, int]] = [("", 0)]
        while queue:
            rel, depth = queue.pop(0)
            try:
                with os.scandir(os.path.join(self.root, rel) if rel else self.root) as it:
                    entries = list(it)
            except OSError:
                continue
            names: set[str] = set()
            for e in entries:
                if not e.name.isprintable():  # also false for undecodable (surrogate) bytes
                    continue
                names.add(e.name)
                try:
                    is_dir = e.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if (is_dir and depth < max_depth and not e.name.startswith(".")
                        and e.name not in SKIP_DIRS):
                    queue.append((f"{rel}/{e.name}" if rel else e.name, depth + 1))
            yield rel or ".", frozenset(names)
