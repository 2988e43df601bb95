"""Secrets for app processes: identity (the user's age key), recipients, store
(secrets.enc), manage (init/set/rm/recipients), for_run, check (pre-commit)."""

__all__ = ["check", "for_run", "identity", "manage", "recipients", "store"]
