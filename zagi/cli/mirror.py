"""`zagi mirror ...`: make other people's repositories runnable (mirror/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose

app = typer.Typer(help="Mirror other people's repositories: infer, lock, build and publish "
                       "their envs (docs/mirror.md).")

Queue = Annotated[Path | None, typer.Option("--queue", help="Queue directory (default: "
                                                          "$ZAGI_HOME/mirror-queue).")]


def _queue(path: Path | None):  # type: ignore[no-untyped-def]
    from mirror.queue import DirQueue
    from zagi.core import layout

    return DirQueue(path or layout.zagi_home() / "mirror-queue")


@app.command()
def add(
    targets: Annotated[list[str] | None, typer.Argument(help="URL[@REV]: a branch, tag or "
                                                             "commit.")] = None,
    list_file: Annotated[Path | None, typer.Option("--list", help="A file of URL[@REV], one "
                                                                  "a line.")] = None,
    queue: Queue = None,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Enqueue repositories to mirror (a job already queued, running or done is not
    added twice; `zagi mirror retry` re-runs one)."""
    from mirror.queue import Job
    from zagi.core.fsutil import read_bounded

    items = list(targets or [])
    if list_file is not None:
        text = read_bounded(list_file, 4 << 20).decode(errors="replace")
        items += [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not items:
        raise typer.BadParameter("give URL[@REV]... or --list FILE")
    q = _queue(queue)
    added = sum(q.add(Job.of(t)) for t in items)
    if json:
        from zagi.cli.output import emit_json

        emit_json({"queued": added, "known": len(items) - added})
        return
    typer.echo(f"queued {added} job(s), {len(items) - added} already known")


@app.command()
def work(
    to: Annotated[str | None, typer.Option("--to", help="The mirror's cache (default: the "
                                                        "local cache).")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Signing key name.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Stop when no job is left, queued or "
                                                      "in flight.")] = False,
    pr_remote: Annotated[str | None, typer.Option("--pr-remote", help="A git remote (a fork) "
                                                  "to push each published env to, as a branch "
                                                  "zagi/env-COMMIT, with the pull-request text "
                                                  "in the index entry.")] = None,
    pr_owner: Annotated[str | None, typer.Option("--pr-owner", help="The fork's owner on "
                                                 "GitHub: with $ZAGI_GITHUB_TOKEN (or "
                                                 "$GITHUB_TOKEN) the pull request is opened "
                                                 "through the API.")] = None,
    queue: Queue = None,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Take jobs and mirror them: clone, infer (never running the repository's code),
    lock, build, check each tool's version, publish, write the index entry."""
    import functools
    import time

    from mirror import worker
    from mirror.queue import MAX_ATTEMPTS, POLL, POLL_ONCE
    from zagi.cli.output import emit_json
    from zagi.core import layout

    q = _queue(queue)
    cache = to or layout.local_cache_url()
    results = []
    while True:
        job = q.claim()
        if job is None:
            if once and q.pending() == 0:
                break
            # --once: another worker's job is in flight (or a dead one's lease runs out)
            time.sleep(POLL_ONCE if once else POLL)
            continue
        if job.attempts > MAX_ATTEMPTS:
            q.finish(job, {"state": "failed", "reason": f"gave up after {MAX_ATTEMPTS} attempts"})
            continue
        entry = worker.process(job.url, job.rev, cache, key,
                               extend=functools.partial(q.extend, job), pr_remote=pr_remote,
                               pr_owner=pr_owner)
        state = "published" if entry["status"] == "published" else "failed"
        q.finish(job, {"state": state, "commit": entry.get("commit"),
                       "env_id": entry.get("env_id"), "reason": entry.get("error"),
                       "timings": entry.get("timings", {})})
        results.append(entry)
        if not json:
            typer.echo(f"{job.url}{'@' + job.rev if job.rev else ''}: {state}"
                       + (f" ({entry['error']})" if entry.get("error") else ""))
    if json:
        emit_json({"jobs": [{"url": e["url"], "commit": e.get("commit"), "status": e["status"],
                             "skipped": bool(e.get("skipped")), "error": e.get("error"),
                             "timings": e.get("timings")} for e in results]})


@app.command()
def status(
    queue: Queue = None,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Every job and its state: queued, running, published or failed."""
    from collections import Counter

    from zagi.cli.output import emit_json

    jobs = [{"url": j["url"], "rev": j.get("rev"), "commit": j.get("commit"),
             "state": j["state"], "reason": j.get("reason"), "env_id": j.get("env_id"),
             "timings": j.get("timings", {})} for j in _queue(queue).jobs()]
    counts = Counter(j["state"] for j in jobs)
    if json:
        emit_json({"jobs": jobs, "counts": dict(counts)})
        return
    for j in jobs:
        typer.echo(f"{j['state']:<10} {j['url']}" + (f"  {j['reason']}" if j["reason"] else ""))
    typer.echo(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no jobs")


@app.command()
def retry(
    targets: Annotated[list[str], typer.Argument(help="URL[@REV] as it was added.")],
    queue: Queue = None,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Queue finished jobs again (a commit already published is then only checked)."""
    from mirror.queue import Job

    q = _queue(queue)
    again = [t for t in targets if q.retry(Job.of(t).id)]
    if missing := sorted(set(targets) - set(again)):
        from zagi.core.errors import BadInput

        raise BadInput(f"no finished job for {missing[0]}", hint="see `zagi mirror status`")
    if json:
        from zagi.cli.output import emit_json

        emit_json({"queued": len(again)})
        return
    typer.echo(f"queued {len(again)} job(s) again")


@app.command()
def show(
    url: Annotated[str, typer.Argument(help="The repository URL, as it was mirrored.")],
    to: Annotated[str | None, typer.Option("--to", help="The mirror's cache (default: the "
                                                        "local cache).")] = None,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """What the mirror's index says of a repository: its latest published commit and each
    commit mirrored, published or failed (with the error)."""
    from zagi.cache import mirrors
    from zagi.cli.output import emit_json
    from zagi.core import layout

    data = mirrors.known(url, to or layout.local_cache_url())
    if json:
        emit_json(data)
        return
    typer.echo(f"{url} in {data['cache']} ({data['index']}): latest "
               f"{data['latest'] or 'none published'}")
    for c in data["commits"]:
        typer.echo(f"  {c['commit']}  {c['status']}" + (f"  {c['error']}" if c["error"] else ""))
