"""The narinfo format and the names of objects in a binary cache.

A cache (reference/nix-binary-cache.md) is `nix-cache-info`, one `<hash>.narinfo` per
store path (the hash is the first 32 characters of the path's base name), compressed
NARs under `nar/`, and zagi's own `envs/<env-id>.json` manifests. These names are
written here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zagi.core.errors import BadInput

__all__ = ["CACHE_INFO", "CACHE_INFO_KEY", "STORE_DIR", "NarInfo", "base_name", "manifest_key", "nar_key",
           "narinfo_key", "path_hash"]

STORE_DIR = "/nix/store"
CACHE_INFO = b"StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n"
CACHE_INFO_KEY = "nix-cache-info"


def base_name(path: str) -> str:
    """/nix/store/<hash>-<name> -> <hash>-<name>"""
    return path.removeprefix(STORE_DIR + "/")


def path_hash(path: str) -> str:
    """The 32-character hash part of a store path (or of its base name)."""
    return base_name(path)[:32]


def narinfo_key(path: str) -> str:
    return f"{path_hash(path)}.narinfo"


def nar_key(hash_nix32: str, compression: str = "zstd") -> str:
    ext = {"zstd": ".zst", "xz": ".xz", "bzip2": ".bz2", "none": ""}.get(compression, "")
    return f"nar/{hash_nix32}.nar{ext}"


def manifest_key(env_id: str) -> str:
    return f"envs/{env_id}.json"


@dataclass
class NarInfo:
    store_path: str
    url: str
    nar_hash: str  # sha256:<nix32>
    nar_size: int
    compression: str = "zstd"
    file_hash: str | None = None
    file_size: int | None = None
    references: list[str] = field(default_factory=list)  # base names, sorted
    deriver: str | None = None
    sigs: list[str] = field(default_factory=list)
    ca: str | None = None

    def render(self) -> str:
        """Field order and spacing as Nix writes them; 'References: ' keeps its space."""
        lines = [f"StorePath: {self.store_path}", f"URL: {self.url}",
                 f"Compression: {self.compression}"]
        if self.file_hash:
            lines.append(f"FileHash: {self.file_hash}")
        if self.file_size is not None:
            lines.append(f"FileSize: {self.file_size}")
        lines += [f"NarHash: {self.nar_hash}", f"NarSize: {self.nar_size}",
                  "References: " + " ".join(sorted(self.references))]
        if self.deriver:
            lines.append(f"Deriver: {self.deriver}")
        lines += [f"Sig: {s}" for s in self.sigs]
        if self.ca:
            lines.append(f"CA: {self.ca}")
        return "\n".join(lines) + "\n"

    def fingerprint(self, store_dir: str = "/nix/store") -> bytes:
        refs = ",".join(f"{store_dir}/{r}" for r in sorted(self.references))
        return f"1;{self.store_path};{self.nar_hash};{self.nar_size};{refs}".encode()

    @classmethod
    def parse(cls, text: str, where: str) -> NarInfo:
        fields: dict[str, list[str]] = {}
        for n, line in enumerate(text.splitlines(), start=1):
            key, sep, value = line.partition(": ")
            if not sep and line.endswith(":"):
                key, value = line[:-1], ""
            elif not sep:
                raise BadInput(f"line {n} is not 'Key: value'", file=where, line=n)
            fields.setdefault(key, []).append(value)
        try:
            info = cls(
                store_path=fields["StorePath"][0], url=fields["URL"][0],
                nar_hash=fields["NarHash"][0], nar_size=int(fields["NarSize"][0]),
                compression=fields.get("Compression", ["bzip2"])[0],
                file_hash=fields.get("FileHash", [None])[0],
                file_size=int(fields["FileSize"][0]) if "FileSize" in fields else None,
                references=[r for r in fields.get("References", [""])[0].split() if r],
                deriver=fields.get("Deriver", [None])[0], sigs=fields.get("Sig", []),
                ca=fields.get("CA", [None])[0])
        except (KeyError, ValueError, IndexError) as exc:
            raise BadInput(f"not a valid narinfo ({exc})", file=where) from None
        if not info.store_path.startswith("/nix/store/") or not info.nar_hash.startswith("sha256:"):
            raise BadInput("not a valid narinfo (StorePath/NarHash)", file=where)
        return info
