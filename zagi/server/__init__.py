"""The zagi server is a bucket: git repositories in git's dumb-HTTP layout beside the
binary cache, in one object store (docs/server.md).

bucket.py   the layout, the state object and its conditional writes, derived files
helper.py   git-remote-zagi: git's remote-helper protocol (push, fetch, list)
push.py     `zagi push`: git push through the helper + the env to the bucket's cache
gc.py       `zagi server gc`: one pack instead of many, garbage after a grace period
"""

__all__ = ["bucket", "gc", "helper", "push"]
