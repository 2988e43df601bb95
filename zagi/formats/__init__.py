"""The file formats zagi reads and writes, parsed into typed values: spec (env.toml),
lockfile (env.lock), findings (what detection found), nar / narinfo / keys (Nix's binary
cache), secretsfile (the plaintext inside secrets.enc)."""

__all__ = ["config", "findings", "keys", "lockfile", "nar", "narinfo", "secretsfile", "spec"]
