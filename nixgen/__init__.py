"""nixgen: version catalog, resolution of requests, and the data the static .nix templates read."""

__all__ = ["catalog", "resolve"]
