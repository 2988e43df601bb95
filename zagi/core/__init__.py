"""The bottom layer, stdlib only: errors (the tree by meaning), proc (THE subprocess
chokepoint), fsutil (atomic writes, bounded reads), layout (every path zagi uses, the env
id), names, versions (request grammar), tomlloc."""

__all__ = ["errors", "fsutil", "layout", "names", "proc", "tomlloc", "versions"]
