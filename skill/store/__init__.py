"""Household stores: SQLite (embedded default) and PostgreSQL (``CLOSER_DATABASE_URL``)."""

from __future__ import annotations

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
    "open_store",
]


def open_store(db_path: str | Path, database_url: str | None = None) -> Store:
    """PostgreSQL for a ``postgres...`` URL, otherwise the SQLite file at ``db_path``."""
    if database_url and database_url.startswith("postgres"):
        from skill.store.postgres import PostgresStore  # lazy: optional driver

        return PostgresStore(database_url)  # type: ignore[call-arg]

    from skill.store.sqlite import SQLiteStore

    return SQLiteStore(db_path)
