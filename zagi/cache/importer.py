"""Getting a verified closure from a cache into the Nix store, fast, as any user may.

Two stages (bench/cache.py measures each):

1. **Stage** (s3:// only, which Nix 2.8 cannot read). Each NAR is streamed from the
   cache, decompressed and hashed on the way, several at once, largest first, into a
   private directory laid out as a binary cache whose narinfos say `Compression: none`.
   A NAR becomes visible there (renamed into place) only when its NarHash and NarSize
   are the ones the signed narinfo — already checked against the lock by
   zagi/cache/reader.py — says; more bytes than NarSize stop the download (a
   decompression bomb costs its NarSize, no more). Memory stays at a few MiB per
   stream whatever the NAR's size. The narinfos keep their signatures: the signed
   fingerprint (path, NarHash, NarSize, references) is unchanged by recompression.
2. **Import**. `nix copy --no-recursive --from file://…` adds each path through the
   daemon, which checks the signatures against its own trusted keys — the only way an
   untrusted user may add paths. One `nix copy` (Nix 2.8) adds its paths one at a time,
   and adding a path is bound by creating its files in the store (kernel time, one
   core), so zagi runs `WORKERS` of them at once, on disjoint batches, in waves that
   respect references: no path is added before the paths it refers to are valid.

A file:// or http(s):// cache skips stage 1: Nix reads it (and checks each NarHash
before the path is valid) in place, each `nix copy` its own downloads. Staging is for
s3://, which Nix 2.8 cannot read; there each batch is staged in the thread that then
adds it, so downloads and imports overlap.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, Protocol, cast

from zagi.core import layout
from zagi.core.errors import ZagiError
from zagi.drivers import nix
from zagi.formats import nar, narinfo
from zagi.formats.narinfo import NarInfo
from zagi.storage import Readable
from zagi.storage.file import LocalDir

__all__ = ["STAGERS", "WORKERS", "import_paths", "scratch", "stage", "waves"]

STAGERS = 4  # NARs downloading at once (each a stream, S3's ranged reads below it)
WORKERS = max(2, min(8, os.cpu_count() or 2))  # `nix copy` processes at once
CHUNK = 1 << 20


class _Pieces(io.RawIOBase):
    """An iterator of byte pieces as a readable file (what the decompressors read)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._it, self._left = pieces, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        while not self._left:
            nxt = next(self._it, None)
            if nxt is None:
                return 0
            self._left = nxt
        n = min(len(buf), len(self._left))
        buf[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


class _Reader(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...
    def close(self) -> None: ...


def _reader(compression: str, pieces: _Pieces, where: str) -> _Reader:
    """A file of the decompressed bytes whose reads return at most what was asked:
    a decompression bomb is stopped after NarSize bytes, never expanded in memory."""
    raw = cast(IO[bytes], pieces)
    if compression in ("", "none"):
        return io.BufferedReader(pieces, CHUNK)
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_size=CHUNK)
    if compression == "xz":
        import lzma

        return lzma.LZMAFile(raw)
    if compression == "bzip2":
        import bz2

        return bz2.BZ2File(raw)
    raise ZagiError(f"{where}: Compression {compression!r} is not one zagi reads "
                    "(zstd, xz, bzip2, none)")


def _plain(pieces: Iterator[bytes], info: NarInfo, where: str) -> Iterator[bytes]:
    """The NAR decompressed from `pieces`; raises as soon as it outgrows NarSize and at
    its end unless it hashes to NarHash (so a writer of what this yields can refuse to
    commit it)."""
    h, size = hashlib.sha256(), 0
    try:
        with contextlib.closing(_reader(info.compression, _Pieces(pieces), where)) as fh:
            while out := fh.read(CHUNK):
                size += len(out)
                if size > info.nar_size:
                    raise ZagiError(f"{where}: more than the {info.nar_size} bytes its narinfo "
                                    "says (tampered, or not this path's NAR)")
                h.update(out)
                yield out
    except (OSError, EOFError, ValueError) as exc:  # the decompressors' "corrupt input"
        raise ZagiError(f"{where}: cannot be decompressed ({exc}; truncated or tampered)") \
            from None
    got = "sha256:" + nar.nix32(h.digest())
    if (got, size) != (info.nar_hash, info.nar_size):
        raise ZagiError(f"{where}: the NAR hashes to {got} ({size} bytes), not the signed "
                        f"{info.nar_hash} (truncated or tampered)")


def stage(cache: Readable, infos: dict[str, NarInfo], into: Path) -> str:
    """Download, decompress and verify each path's NAR into `into` (a binary cache of
    plain NARs beside their narinfos; several calls may fill one directory at once);
    its file:// URL."""
    local = LocalDir(into, f"file://{into}")  # its atomic writes: temp file, rename
    if not local.exists(narinfo.CACHE_INFO_KEY):
        local.put(narinfo.CACHE_INFO_KEY, narinfo.CACHE_INFO)

    def one(path: str) -> None:
        info = infos[path]
        where = f"{cache.url}/{info.url}"
        pieces = cache.stream(info.url)
        if pieces is None:
            raise ZagiError(f"{where} is missing (the NAR of {path})")
        plain = NarInfo(store_path=path, url=narinfo.nar_key(
            info.nar_hash.removeprefix("sha256:"), "none"), compression="none",
            nar_hash=info.nar_hash, nar_size=info.nar_size, references=info.references,
            deriver=info.deriver, sigs=info.sigs, ca=info.ca)
        local.put_stream(plain.url, _plain(pieces, info, where))  # visible only if verified
        local.put(narinfo.narinfo_key(path), plain.render().encode())

    order = sorted(infos, key=lambda p: -infos[p].nar_size)
    with ThreadPoolExecutor(STAGERS) as pool:
        list(pool.map(one, order))
    return f"file://{into}"


def waves(paths: list[str], refs: dict[str, list[str]]) -> list[list[str]]:
    """`paths` in layers: each path after every path of `paths` it refers to."""
    left = set(paths)
    out: list[list[str]] = []
    while left:
        ready = sorted(p for p in left if not (set(refs.get(p, ())) - {p}) & left)
        if not ready:  # a reference cycle: Nix's store paths have none; be safe
            raise ZagiError(f"the references of {sorted(left)[0]} form a cycle")
        out.append(ready)
        left -= set(ready)
    return out


def _batches(wave: list[str], sizes: dict[str, int], n: int) -> list[list[str]]:
    """Split a wave into at most n batches of about equal NAR bytes (largest first)."""
    bins: list[tuple[int, list[str]]] = [(0, []) for _ in range(min(n, len(wave)))]
    for p in sorted(wave, key=lambda p: -sizes.get(p, 0)):
        i = min(range(len(bins)), key=lambda k: bins[k][0])
        bins[i] = (bins[i][0] + sizes.get(p, 0), [*bins[i][1], p])
    return [b for _, b in bins if b]


def import_paths(url: str, infos: dict[str, NarInfo], keys: list[str], store: nix.StoreInfo,
                 on_event: nix.Event | None = None,
                 prepare: Callable[[dict[str, NarInfo]], object] | None = None) -> None:
    """Add the paths of `infos` (their references already valid or among them) from the
    cache at `url`, WORKERS `nix copy` processes at a time. `prepare(batch)`, when given,
    runs first in the batch's own thread (staging its NARs): one batch downloads while
    another is being added."""
    lock = threading.Lock()

    def event(kind: str, path: str) -> None:
        if on_event is not None:
            with lock:  # several processes report at once; the progress display is one
                on_event(kind, path)

    base = {narinfo.base_name(p): p for p in infos}
    refs = {p: [base[r] for r in i.references if r in base] for p, i in infos.items()}
    sizes = {p: i.nar_size for p, i in infos.items()}
    def one(batch: list[str]) -> None:
        if prepare is not None:
            prepare({p: infos[p] for p in batch})
        nix.copy_from(url, batch, keys, store, event, recursive=False)

    with ThreadPoolExecutor(WORKERS) as pool:
        for wave in waves(sorted(infos), refs):
            list(pool.map(one, _batches(wave, sizes, WORKERS)))


STALE = 6 * 3600.0  # seconds: a staging dir this old belongs to a killed fetch


def scratch(source_url: str) -> Path:
    """A fresh staging directory for one fetch from `source_url` (mkdtemp: private),
    under $ZAGI_HOME/mirror, after removing what killed fetches left there long ago
    (not what a fetch running beside this one is using)."""
    import time

    root = layout.mirror_dir(source_url)
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("stage-*"):
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > STALE:
                shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=root, prefix="stage-"))
