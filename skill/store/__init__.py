"""Household stores: SQLite (embedded default) and PostgreSQL (``CLOSER_DATABASE_URL``)."""

from __future__ import annotations

import os
from pathlib import Path

from skill.store.base import (
    PROFILE_FIELDS,
    Appreciation,
    Household,
    Store,
    StoreUnavailable,
)

__all__ = [
    "PROFILE_FIELDS",
    "Appreciation",
    "Household",
    "Store",
    "StoreUnavailable",
    "default_db_path",
    "open_store",
]


def default_db_path() -> Path:
    """Where the embedded SQLite database lives when neither argument nor CLOSER_DB says."""
    import platformdirs

    return Path(platformdirs.user_data_dir("closer-together")) / "closer.sqlite3"


def open_store(db_path: str | None = None, database_url: str | None = None) -> Store:
    """The configured store: PostgreSQL for a ``postgres...`` URL, otherwise a SQLite file.

    ``database_url`` falls back to ``CLOSER_DATABASE_URL``; ``db_path`` to ``CLOSER_DB``
    and then to the per-user data directory.
    """
    url = database_url or os.environ.get("CLOSER_DATABASE_URL") or ""
    if url.startswith("postgres"):
        from skill.store.postgres import PostgresStore  # lazy: optional driver

        return PostgresStore(url)  # type: ignore[call-arg]

    from skill.store.sqlite import SQLiteStore

    path = db_path or os.environ.get("CLOSER_DB") or default_db_path()
    return SQLiteStore(path)
