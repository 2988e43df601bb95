"""The mirror's job queue, embedded default: a directory shared by the worker processes of
one machine. (Many machines: a distributed queue such as SQS; not built yet.)

    <dir>/queued/<id>.json    a job waiting
    <dir>/running/<id>.json   claimed: rename(2) is the lock, the file's mtime + LEASE the
                              lease (a worker extends it while the job runs; a crashed
                              worker's job is taken again once its lease has passed)
    <dir>/done/<id>.json      the job with its outcome (published or failed)

A job is {"id", "url", "rev", "attempts"}; its id is the hash of (url, rev), so adding a
job twice is one job.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from zagi.core.errors import BadInput
from zagi.core.fsutil import atomic_write

__all__ = ["LEASE", "MAX_ATTEMPTS", "POLL", "POLL_ONCE", "DirQueue", "Job"]

LEASE = 15 * 60.0  # seconds a claim lasts unless extended
MAX_ATTEMPTS = 3  # a job that failed this often (crashed workers included) is not retried
POLL = 5.0  # seconds an idle worker waits before looking again
POLL_ONCE = 0.5  # the same for `work --once` waiting for the last jobs in flight


@dataclass
class Job:
    id: str
    url: str
    rev: str | None = None
    attempts: int = 0

    @staticmethod
    def of(target: str) -> Job:
        """`URL[@REV]` as a job (REV: a branch, tag or commit)."""
        url, rev = target, None
        if "@" in target.rsplit("/", 1)[-1]:
            url, rev = target.rsplit("@", 1)
        if not url or any(c.isspace() for c in url) or url.startswith("-"):
            raise BadInput(f"{target!r}: expected a repository URL, optionally @REV")
        ident = hashlib.sha256(f"{url}\0{rev or ''}".encode()).hexdigest()[:20]
        return Job(ident, url, rev)


class DirQueue:
    def __init__(self, root: Path) -> None:
        self.root = root
        for d in ("queued", "running", "done"):
            (root / d).mkdir(parents=True, exist_ok=True)

    def _path(self, state: str, ident: str) -> Path:
        return self.root / state / f"{ident}.json"

    def add(self, job: Job) -> bool:
        """Enqueue unless the job is already queued, running or done; True if added."""
        if any(self._path(s, job.id).exists() for s in ("queued", "running", "done")):
            return False
        atomic_write(self._path("queued", job.id), json.dumps(asdict(job)).encode())
        return True

    def claim(self) -> Job | None:
        """Take a queued job, or one whose worker's lease has passed; None if none."""
        for state in ("queued", "running"):
            for f in sorted((self.root / state).glob("*.json")):
                if state == "running" and time.time() - _mtime(f) < LEASE:
                    continue  # alive (its worker extends the lease)
                mine = self.root / "running" / f".{f.stem}.{os.getpid()}.claim"
                try:
                    os.rename(f, mine)  # exactly one worker wins a given file
                except FileNotFoundError:
                    continue
                job = Job(**json.loads(mine.read_text()))
                job.attempts += 1
                atomic_write(mine, json.dumps(asdict(job)).encode())
                os.rename(mine, self._path("running", job.id))
                return job
        return None

    def extend(self, job: Job) -> None:
        os.utime(self._path("running", job.id))

    def finish(self, job: Job, outcome: dict[str, Any]) -> None:
        atomic_write(self._path("done", job.id),
                     json.dumps({**asdict(job), **outcome}, indent=2).encode())
        self._path("running", job.id).unlink(missing_ok=True)

    def retry(self, job_id: str) -> bool:
        done = self._path("done", job_id)
        if not done.exists():
            return False
        data = json.loads(done.read_text())
        job = Job(data["id"], data["url"], data.get("rev"))
        atomic_write(self._path("queued", job.id), json.dumps(asdict(job)).encode())
        done.unlink()
        return True

    def pending(self) -> int:
        """Jobs queued or in flight (a crashed worker's included)."""
        return sum(1 for s in ("queued", "running") for _ in (self.root / s).glob("*.json"))

    def jobs(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for state in ("queued", "running", "done"):
            for f in sorted((self.root / state).glob("*.json")):
                data = json.loads(f.read_text())
                data.setdefault("state", state)
                out.append(data)
        return out


def _mtime(f: Path) -> float:
    try:
        return f.stat().st_mtime
    except FileNotFoundError:
        return time.time()
