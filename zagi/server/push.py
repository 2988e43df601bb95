"""`zagi push`: source and env to a bucket in one step.

git push through git-remote-zagi (the refs move only after the packs are there), then the
env of what was pushed, signed, to the binary cache in the same bucket, then the
provenance notes (refs/notes/zagi) when the repository has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zagi.core.errors import BadInput
from zagi.core.layout import Project
from zagi.drivers import git
from zagi.server import bucket

NOTES = "refs/notes/zagi"


@dataclass
class Pushed:
    remote: str
    url: str
    git_report: str
    cache: str
    env_id: str | None = None  # None: no env published (why in notes)
    uploaded: int = 0
    notes: list[str] = field(default_factory=list)


def push(root: Path, remote: str, refspecs: list[str], key: str | None) -> Pushed:
    url = git.remote_url(root, remote)
    if url is None:
        raise BadInput(f"no git remote {remote!r} here",
                       hint="add one: git remote add origin zagi::s3://BUCKET/PREFIX/NAME")
    if not bucket.is_bucket_url(url):
        raise BadInput(f"remote {remote!r} is {url}, not a bucket (zagi::s3://... or "
                       "zagi::file://...)", hint="`zagi publish` puts an env in any cache; "
                                                 "plain `git push` moves the source")
    report = git.push(root, remote, refspecs or ["HEAD"])  # default: the current branch
    out = Pushed(remote, url, report, bucket.cache_url(url))
    project = Project(root)
    if project.lock.is_file():
        _publish(project, out, key)
    else:
        out.notes.append("no .zagi/env.lock here: source only")
    if git.has_ref(root, NOTES):
        git.push(root, remote, [f"{NOTES}:{NOTES}"])
        out.notes.append("provenance notes pushed")
    return out


def _publish(project: Project, out: Pushed, key: str | None) -> None:
    if not git.unchanged_since_head(project.root, ".zagi/env.lock"):
        out.notes.append(".zagi/env.lock has changes not committed: the pushed commit's env "
                         "was not published (commit, then zagi push)")
        return
    from zagi.cache import writer

    res = writer.publish(project, out.cache, key)
    out.env_id, out.uploaded = res.env_id, len(res.uploaded)
