"""Opening the mirror's pull request through the GitHub REST API (httpx).

Used when a token is configured ($ZAGI_GITHUB_TOKEN or $GITHUB_TOKEN) and the repository
is on github.com, or $ZAGI_GITHUB_API names another API root (GitHub Enterprise, or a
local server in tests). Endpoints: GET /repos/{owner}/{repo} (its default branch), POST
/repos/{owner}/{repo}/pulls. The token goes only to that API root.
"""

from __future__ import annotations

import os
from typing import Any

from zagi.core.errors import Unavailable

__all__ = ["API", "open_pull_request", "token"]

API = "https://api.github.com"
TIMEOUT = 30.0


def token() -> str | None:
    return os.environ.get("ZAGI_GITHUB_TOKEN") or os.environ.get("GITHUB_TOKEN") or None


def api_for(host: str) -> str | None:
    """The API root for a repository host, or None when it is not one zagi can reach."""
    if custom := os.environ.get("ZAGI_GITHUB_API"):
        return custom.rstrip("/")
    return API if host == "github.com" else None


def open_pull_request(api: str, owner: str, repo: str, head: str, title: str,
                      body: str) -> dict[str, Any]:
    """Open the pull request (`head`: "forkowner:branch"); {"number", "url"}."""
    import httpx

    tok = token()
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
               **({"Authorization": f"Bearer {tok}"} if tok else {})}
    with httpx.Client(base_url=api, headers=headers, timeout=TIMEOUT,
                      follow_redirects=False) as client:
        try:
            info = client.get(f"/repos/{owner}/{repo}")
            _ok(info, "reading the repository")
            base = str(info.json().get("default_branch") or "main")
            made = client.post(f"/repos/{owner}/{repo}/pulls",
                               json={"title": title, "head": head, "base": base, "body": body,
                                     "maintainer_can_modify": True})
            _ok(made, "opening the pull request")
        except httpx.HTTPError as exc:
            raise Unavailable(f"{api}: {exc}", url=api) from None
        data = made.json()
    return {"number": data.get("number"), "url": data.get("html_url"), "base": base}


def _ok(r: Any, what: str) -> None:
    if r.status_code >= 300:
        raise Unavailable(f"GitHub API, {what}: HTTP {r.status_code}: {r.text[:200]}")
