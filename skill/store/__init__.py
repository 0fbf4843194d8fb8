"""The household store: one SQL implementation (skill/store/sql.py) on SQLite (embedded
default) or PostgreSQL, with names and appreciations encrypted at rest (crypto.py) and old
rows purged (``Retention``). Settings come in as arguments; nothing here reads the
environment.

Modules: base (the interface, its guarantees and value types), sql (the store, written
once), dialect (what differs between the databases), sqlite and postgres (the two
dialects), sqlite_writers (SQLite's writers' turn and checkpointer), schema (tables and
migrations), crypto (the cipher and its keys).
"""

from __future__ import annotations

from pathlib import Path

from skill.store.base import (
    MAX_JOURNAL_DAYS,
    PROFILE_FIELDS,
    REMINDER_RITUALS,
    RITUAL_KINDS,
    Appreciation,
    Household,
    Reminder,
    Retention,
    Ritual,
    Store,
    StoreUnavailable,
)
from skill.store.crypto import Cipher, UndecryptableValue, load_key, load_or_create_key_file
from skill.store.sql import SQLStore

__all__ = [
    "MAX_JOURNAL_DAYS",
    "PROFILE_FIELDS",
    "REMINDER_RITUALS",
    "RITUAL_KINDS",
    "Appreciation",
    "Cipher",
    "Household",
    "Reminder",
    "Retention",
    "Ritual",
    "SQLStore",
    "Store",
    "StoreUnavailable",
    "UndecryptableValue",
    "load_key",
    "load_or_create_key_file",
    "open_store",
]


def open_store(
    *,
    db_path: Path | str,
    database_url: str | None = None,
    cipher: Cipher | None = None,
    retention: Retention | None = None,
) -> SQLStore:
    """The store: PostgreSQL for a ``postgres...`` URL, otherwise the SQLite file at
    ``db_path``.

    ``cipher``: names and appreciations are encrypted with it (the product always passes
    one). ``retention``: how long appreciations and rituals are kept; None means the
    default promise (a 7-day journal, 8 days of rituals), not "for ever".
    """
    retention = retention or Retention()
    if database_url and database_url.startswith("postgres"):
        from skill.store.postgres import PostgresStore  # lazy: optional driver

        return PostgresStore(database_url, cipher=cipher, retention=retention)

    from skill.store.sqlite import SQLiteStore

    return SQLiteStore(db_path, cipher=cipher, retention=retention)
