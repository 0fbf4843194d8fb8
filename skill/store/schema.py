"""The schema, written once and rendered per dialect ({id}, {time}, {bool}: dialect.types).

Version 3 is the first of the one SQL store. An empty database gets ``TABLES`` at once; a
database from the two mirrored stores before it (versions 1 and 2) is carried over by
``upgrade_legacy`` with its data. Later changes are appended to ``MIGRATIONS`` (version 4
first) and never edited once shipped.

Nothing here counts for ever on SQLite: no AUTOINCREMENT (``sqlite_sequence`` would keep a
count across forgets); a new row's id is one more than the highest left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from skill.store.base import to_minute
from skill.store.dialect import Connection, Dialect

Run = Callable[[Connection, str, Sequence[object]], Any]

TABLES = (
    """
    CREATE TABLE households (
        household_id   TEXT PRIMARY KEY,
        first_name     TEXT,
        second_name    TEXT,
        journal_opt_in {bool},
        visits         INTEGER NOT NULL DEFAULT 0,
        last_category  TEXT,
        last_card_id   TEXT,
        round_state    TEXT,
        checkin_state  TEXT,
        deep_state     TEXT
    )
    """,
    # seq: the order cards were heard in (the newest is the highest).
    """
    CREATE TABLE seen_cards (
        seq          {id},
        household_id TEXT NOT NULL,
        card_id      TEXT NOT NULL,
        UNIQUE (household_id, card_id)
    )
    """,
    """
    CREATE TABLE rituals (
        household_id TEXT NOT NULL,
        kind         TEXT NOT NULL,
        at           {time} NOT NULL,
        seconds      INTEGER
    )
    """,
    "CREATE INDEX rituals_by_household ON rituals (household_id, at)",
    """
    CREATE TABLE appreciations (
        id           {id},
        household_id TEXT NOT NULL,
        giver        TEXT NOT NULL,
        receiver     TEXT NOT NULL,
        text         TEXT NOT NULL,
        said_at      {time} NOT NULL,
        extra        TEXT
    )
    """,
    "CREATE INDEX appreciations_by_household ON appreciations (household_id, said_at)",
    """
    CREATE TABLE reminders (
        household_id TEXT NOT NULL,
        ritual       TEXT NOT NULL,
        local_time   TEXT NOT NULL,
        alexa_token  TEXT,
        last_nudged  TEXT,
        PRIMARY KEY (household_id, ritual)
    )
    """,
    # The local speaker's household id and the data key's check value.
    "CREATE TABLE store_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
FIRST_VERSION = 3

# (version, statements): appended after FIRST_VERSION; none yet.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = ()
SCHEMA_VERSION = MIGRATIONS[-1][0] if MIGRATIONS else FIRST_VERSION

# Tables holding rows of a household; ``forget`` empties all of them (households last).
HOUSEHOLD_TABLES = ("seen_cards", "rituals", "appreciations", "reminders", "households")

# Carrying a version 1 or 2 database over: its tables are renamed, the new ones made, the
# rows copied (hugs in Python, to cut their times to the minute), the old tables dropped.
_LEGACY_TABLES = ("households", "seen_cards", "hugs", "appreciations")
_LEGACY_COPIES = (
    "INSERT INTO households (household_id, first_name, second_name, journal_opt_in, visits, "
    "last_category, last_card_id, round_state, checkin_state) "
    "SELECT household_id, first_name, second_name, journal_opt_in, visits, last_category, "
    "last_card_id, CAST(round_state AS TEXT), CAST(checkin_state AS TEXT) "
    "FROM legacy_households",
    "INSERT INTO seen_cards (household_id, card_id) "
    "SELECT household_id, card_id FROM legacy_seen_cards ORDER BY {legacy_seen_order}",
    "INSERT INTO appreciations (household_id, giver, receiver, text, said_at, extra) "
    "SELECT household_id, giver, receiver, text, said_at, CAST(extra AS TEXT) "
    "FROM legacy_appreciations ORDER BY said_at, id",
)


def migrate(conn: Connection, dialect: Dialect, version: int, run: Run) -> None:
    """Bring the schema from ``version`` to SCHEMA_VERSION (in the caller's transaction)."""
    if version == 0:
        for statement in TABLES:
            run(conn, dialect.render(statement), ())
    elif version < FIRST_VERSION:
        upgrade_legacy(conn, dialect, version, run)
    for number, statements in MIGRATIONS:
        if number > max(version, FIRST_VERSION):
            for statement in statements:
                run(conn, dialect.render(statement), ())
    dialect.set_schema_version(conn, SCHEMA_VERSION)


def upgrade_legacy(conn: Connection, dialect: Dialect, version: int, run: Run) -> None:
    """Versions 1 and 2 (the two mirrored stores) to version 3, keeping every row."""
    legacy = (*_LEGACY_TABLES, "local_device") if version >= 2 else _LEGACY_TABLES
    for table in legacy:
        run(conn, f"ALTER TABLE {table} RENAME TO legacy_{table}", ())
    for statement in TABLES:
        run(conn, dialect.render(statement), ())
    for statement in _LEGACY_COPIES:
        run(conn, dialect.render(statement), ())
    hugs = run(conn, "SELECT household_id, seconds, at FROM legacy_hugs", ()).fetchall()
    for hug in hugs:
        at = to_minute(dialect.decode_time(hug["at"]))
        run(conn, "INSERT INTO rituals (household_id, kind, at, seconds) VALUES (?, ?, ?, ?)",
            (hug["household_id"], "hug", dialect.encode_time(at), hug["seconds"]))
    if version >= 2:
        run(conn, "INSERT INTO store_meta (name, value) "
                  "SELECT 'local_household_id', household_id FROM legacy_local_device", ())
    for table in legacy:
        run(conn, f"DROP TABLE legacy_{table}", ())
