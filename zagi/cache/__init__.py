"""Binary caches: writer (`zagi publish`, one algorithm for storage and Cachix sinks),
rules (what keeps a cache consistent), reader (which caches, verify, fetch), keys
(signing keys), serve (`zagi cache serve`), cachix (the push-API sink)."""

__all__ = ["cachix", "keys", "reader", "rules", "serve", "writer"]
