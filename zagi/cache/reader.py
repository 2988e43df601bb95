"""Which binary caches a project reads, and fetching a locked env from them.

Caches, in order: `--cache URL` options, the user's $XDG_CONFIG_HOME/zagi/config.toml,
the project's .zagi/config.toml, then the local cache under $ZAGI_HOME when it exists:

    [cache]
    urls = ["s3://bucket?endpoint=https://...", "https://cache.example.org"]
    public_keys = ["cache.example.org-1:BASE64..."]

One GET of envs/<env-id>.json says whether a cache has the env. zagi then checks every
narinfo's signature itself (so a refusal names the path, the cache and the key), and
zagi/cache/importer.py gets the paths into the store with several `nix copy --from`
processes at once (NARs from s3:// first streamed, decompressed and NarHash-checked
into a private staging cache; file:// and http(s):// are read by Nix in place). Because
the client reads the cache, the daemon need not trust its URL; it must trust the
signing key (`blocked` says so, with the nix.conf line).
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from zagi.cache import keys as signing_keys
from zagi.core import layout
from zagi.core.errors import ZagiError
from zagi.core.layout import Project
from zagi.drivers import nix
from zagi.formats import config, narinfo
from zagi.formats.keys import verify
from zagi.formats.lockfile import PathInfo
from zagi.formats.narinfo import NarInfo
from zagi.storage import Readable, open_url

__all__ = ["CacheConfig", "Offer", "blocked", "configured", "fetch", "find",
           "signed_narinfo", "suggestion", "trust_lines"]

FETCHERS = 8


@dataclass
class CacheConfig:
    urls: list[str] = field(default_factory=list)
    public_keys: list[str] = field(default_factory=list)  # trusted: the user's, never a repo's
    suggested_keys: list[str] = field(default_factory=list)  # what the repo asks us to trust


def _read(path: Path) -> CacheConfig:
    data = config.load(path)
    return CacheConfig(config.strings(data, "cache", "urls", path),
                       config.strings(data, "cache", "public_keys", path))


def configured(project: Project, urls: list[str], keys: list[str]) -> CacheConfig:
    """The caches to read and the keys to trust. A cloned repo is untrusted: its
    .zagi/config.toml may add cache URLs (whatever they serve must still be signed by a
    key the user trusts), but its keys are only suggestions, never trusted."""
    out = CacheConfig(list(urls), list(keys))
    user, repo = _read(layout.user_config()), _read(project.config)
    out.urls += user.urls + repo.urls
    out.public_keys += user.public_keys
    if (layout.local_cache_dir() / narinfo.CACHE_INFO_KEY).exists():
        out.urls.append(layout.local_cache_url())
    out.public_keys += signing_keys.public_keys()
    out.urls = list(dict.fromkeys(out.urls))
    out.public_keys = list(dict.fromkeys(out.public_keys))
    out.suggested_keys = [k for k in dict.fromkeys(repo.public_keys) if k not in out.public_keys]
    return out


def suggestion(cfg: CacheConfig) -> str | None:
    """What to tell a user whose repo suggests keys they have not trusted."""
    if not cfg.suggested_keys:
        return None
    keys = " ".join(f"--trust {k}" for k in cfg.suggested_keys)
    return (f"this repository suggests trusting {len(cfg.suggested_keys)} cache key(s) "
            f"({', '.join(k.split(':', 1)[0] for k in cfg.suggested_keys)}); zagi trusts keys "
            f"only from you: pass {keys}, or add them to public_keys in "
            f"{layout.user_config()}")


@dataclass
class Offer:
    """A cache that has the env and whose narinfos all verify."""

    url: str  # the cache as configured
    signers: frozenset[str] = frozenset()  # names of the trusted keys that signed it
    upstream: tuple[str, ...] = ()  # closure paths it leaves to the caches Nix uses
    paths: tuple[str, ...] = ()  # the closure paths it holds (all but `upstream`)
    infos: dict[str, NarInfo] = field(default_factory=dict)  # their verified narinfos


def find(env_id: str, closure: tuple[PathInfo, ...], cfg: CacheConfig,
         say: list[str], unpinned: str | None = None) -> Offer | None:
    """The first cache that has the env, signed by a trusted key, and whose narinfos
    agree with the lock (NarHash, NarSize, references inside the closure): checked here,
    before anything is fetched, so a cache that disagrees is refused with the path.
    `unpinned`: a path of the closure the lock has no hash for (the env output of a
    partial entry): its narinfo must be signed and stay inside the closure."""
    for url in cfg.urls:
        try:
            cache = open_url(url)
            raw = cache.get(narinfo.manifest_key(env_id))
            if raw is None:
                continue
            upstream = _upstream(raw, closure)
            here = tuple(p for p in closure if p.path not in upstream)
            signers, problems, infos = _verify(cache, here, cfg.public_keys, unpinned, closure)
            if problems:
                say.append(f"cache {url}: {problems[0]}" + (f" (+{len(problems) - 1} more)"
                                                            if len(problems) > 1 else ""))
                continue
            paths = [p.path for p in here] + ([unpinned] if unpinned else [])
            return Offer(url, signers, tuple(sorted(upstream)), tuple(paths), infos)
        except ZagiError as exc:
            say.append(f"cache {url}: {exc}")
    return None


def _upstream(raw: bytes, closure: tuple[PathInfo, ...]) -> set[str]:
    """The closure paths a manifest says the cache left to the caches Nix uses (a
    manifest is repository-reachable input: only paths of the locked closure count, and
    those are fetched by Nix from the user's own caches, which Nix checks)."""
    try:
        data = json.loads(raw[: 16 << 20])
    except (ValueError, RecursionError):
        return set()
    listed = data.get("upstream") if isinstance(data, dict) else None
    inside = {p.path for p in closure}
    return {p for p in listed if isinstance(p, str) and p in inside} \
        if isinstance(listed, list) else set()


def signed_narinfo(cache: Readable, path: str,
                   trusted: list[str]) -> tuple[NarInfo, str] | str:
    """`path`'s narinfo in `cache` and the trusted key that signed it, or why not (one
    rule for zagi's caches and, with Nix's keys, for the caches Nix uses)."""
    key = narinfo.narinfo_key(path)
    raw = cache.get(key)
    if raw is None:
        return f"{path} is missing"
    info = NarInfo.parse(raw.decode(errors="replace"), f"{cache.url}/{key}")
    if info.store_path != path:
        return f"{key} describes {info.store_path}, not {path}"
    signer = verify(trusted, info.fingerprint(), info.sigs)
    if signer is None:
        signers = ", ".join(s.split(":", 1)[0] for s in info.sigs) or "nobody"
        return (f"{path} is signed by {signers}, not by a trusted key "
                f"({', '.join(k.split(':', 1)[0] for k in trusted) or 'none configured'})")
    return info, signer


def _verify(cache: Readable, closure: tuple[PathInfo, ...], trusted: list[str],
            unpinned: str | None = None,
            whole: tuple[PathInfo, ...] | None = None,
            ) -> tuple[frozenset[str], list[str], dict[str, NarInfo]]:
    """Every path of `closure` has a narinfo signed by a trusted key that says what the lock
    says, its references inside the lock's `whole` closure (default: `closure`): (the keys
    that signed, messages for the paths that fail, the narinfos that pass)."""
    inside = {narinfo.base_name(p.path) for p in (whole or closure)}
    records = list(closure)
    if unpinned:
        inside.add(narinfo.base_name(unpinned))
        records.append(PathInfo(unpinned, "", -1))  # no hash to compare: signature only

    def one(rec: PathInfo) -> tuple[NarInfo | None, str | None, str | None]:
        path = rec.path
        found = signed_narinfo(cache, path, trusted)
        if isinstance(found, str):
            return None, None, found
        info, signer = found
        if rec.nar_size >= 0 and (info.nar_hash, info.nar_size) != (rec.nar_hash, rec.nar_size):
            return None, None, (f"{path}: the cache has {info.nar_hash} ({info.nar_size} bytes), "
                                f"the lock {rec.nar_hash} ({rec.nar_size} bytes)")
        if outside := sorted(set(info.references) - inside):
            return None, None, f"{path} refers to {outside[0]}, which the lock's closure lacks"
        return info, signer, None

    with ThreadPoolExecutor(FETCHERS) as pool:
        results = list(pool.map(one, records))
    return (frozenset(s for _, s, _ in results if s), [m for _, _, m in results if m],
            {i.store_path: i for i, _, _ in results if i is not None})


def trust_lines(keys: list[str]) -> str:
    """The nix.conf lines (and NixOS setting) that make a daemon accept these keys."""
    joined = " ".join(keys)
    quoted = " ".join(f'"{k}"' for k in keys)
    return (f"add to /etc/nix/nix.conf: `extra-trusted-public-keys = {joined}` and restart "
            f"the daemon (sudo systemctl restart nix-daemon); on NixOS: "
            f"nix.settings.trusted-public-keys = [ {quoted} ]; then nixos-rebuild switch "
            f"(or run `sudo zagi cache trust KEY`)")


def blocked(offer: Offer, cfg: CacheConfig, store: nix.StoreInfo) -> str | None:
    """Why Nix would refuse this cache's paths, before anything is fetched (None: it won't).

    A trusted user's keys reach the daemon with the copy; an untrusted user's do not, so
    the daemon itself must trust a key that signed every path."""
    if store.trusted or any(store.trusts_key(name) for name in offer.signers):
        return None
    keys = [k for k in cfg.public_keys if k.split(":", 1)[0] in offer.signers]
    return (f"cache {offer.url} has this env, signed by {', '.join(sorted(offer.signers))}, "
            f"but the Nix daemon does not trust that key and you are not a trusted user "
            f"({store.why}), so Nix would refuse its paths; building instead. To use it: "
            + trust_lines(keys))


def fetch(offer: Offer, cfg: CacheConfig, store: nix.StoreInfo,
          on_event: nix.Event | None = None) -> None:
    """Get the closure paths the cache holds (all but those it leaves upstream, fetched
    first by the caller) and the store lacks into the store; Nix checks signatures."""
    from zagi.cache import importer

    keys = [k for k in cfg.public_keys if k.split(":", 1)[0] in offer.signers]
    todo = {p: offer.infos[p] for p in nix.invalid(list(offer.infos))}
    if not todo:
        return
    if not offer.url.startswith("s3://"):  # Nix reads file:// and http(s):// itself
        importer.import_paths(offer.url, todo, keys, store, on_event)
        return
    cache, into = open_url(offer.url), importer.scratch(offer.url)
    try:
        importer.import_paths(f"file://{into}", todo, keys, store, on_event,
                              prepare=lambda batch: importer.stage(cache, batch, into))
    finally:
        shutil.rmtree(into, ignore_errors=True)
