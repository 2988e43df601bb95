"""Services that run with the env (postgres, redis, mariadb, memcached) and project tasks.

kinds.py      what each server is: init, command, readiness probe, connection variables
supervise.py  the per-project supervisord: its config and XML-RPC
manage.py     up / down / status / logs, ports and state dirs, activation variables
tasks.py      [tasks]: listing and the command a task runs
"""

__all__ = ["kinds", "manage", "supervise", "tasks"]
