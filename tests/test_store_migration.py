"""A database made by the two mirrored stores (schema versions 1 and 2, as they shipped:
tests/fixtures/store/legacy_v2.*.sql) opens with today's store and keeps every household:
names, ritual state, journal, hugs, cards heard and their order, the local speaker's id.
With a key, the old plain text is sealed on the way, and no word of it stays on disk."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from skill.store import Appreciation, Cipher, Ritual, SQLStore, StoreUnavailable
from skill.store.postgres import PostgresStore
from skill.store.schema import SCHEMA_VERSION
from skill.store.sqlite import SQLiteStore
from tests.support.pg_server import postgres_server, postgres_url  # noqa: F401 - fixtures

FIXTURES = Path(__file__).parent / "fixtures" / "store"
T0 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
KEY = bytes(range(32))
LOCAL_ID = "local.8d3c1f0e-legacy"


def legacy_statements(dialect: str, version: int) -> list[str]:
    """The statements of the legacy schema up to ``version``."""
    text = (FIXTURES / f"legacy_v2.{dialect}.sql").read_text()
    statements = []
    for part in text.split("-- version ")[1:version + 1]:
        body = "\n".join(line for line in part.splitlines()[1:] if not line.startswith("--"))
        statements += [s.strip() for s in body.split(";") if s.strip()]
    return statements


# Rows as the old stores wrote them: (sql, params), with ? placeholders.
def legacy_rows(version: int, time: Callable[[datetime], object]) -> list[tuple[str, tuple]]:
    rows = [
        ("INSERT INTO households (household_id, first_name, second_name, journal_opt_in, "
         "visits, last_category, last_card_id, round_state, created_at, updated_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         ("h1", "Xochitl", "Nnamdi", True, 4, "fun", "fun-2", '{"step": "second"}',
          time(T0), time(T0))),
        ("INSERT INTO households (household_id, first_name, visits, created_at, updated_at) "
         "VALUES (?, ?, ?, ?, ?)", ("h2", "Aoife", 1, time(T0), time(T0))),
        ("INSERT INTO hugs (household_id, seconds, at) VALUES (?, ?, ?)",
         ("h1", 30, time(T0 - timedelta(days=1, seconds=17, microseconds=250)))),
        ("INSERT INTO appreciations (household_id, giver, receiver, text, said_at, extra) "
         "VALUES (?, ?, ?, ?, ?, ?)",
         ("h1", "Xochitl", "Nnamdi", "you sang in the kitchen", time(T0 - timedelta(days=1)),
          '{"round": 1}')),
        ("INSERT INTO appreciations (household_id, giver, receiver, text, said_at, extra) "
         "VALUES (?, ?, ?, ?, ?, ?)",
         ("h1", "Nnamdi", "Xochitl", "you waited for me", time(T0), '{}')),
    ]
    # Cards heard in this order: c, a, d (b never): the last heard is d.
    rows += [("INSERT INTO seen_cards (household_id, card_id, seen_at) VALUES (?, ?, ?)",
              ("h1", card, time(T0))) for card in ("fun-c", "fun-a", "fun-d")]
    if version >= 2:
        rows.append(("INSERT INTO local_device (id, household_id, created_at) "
                     "VALUES (1, ?, ?)", (LOCAL_ID, time(T0))))
    return rows


@dataclass
class Legacy:
    kind: str
    target: str  # path or URL

    def open(self, **settings: object) -> SQLStore:
        if self.kind == "sqlite":
            return SQLiteStore(self.target, **settings)  # type: ignore[arg-type]
        return PostgresStore(self.target, **settings)  # type: ignore[arg-type]

    def raw(self, sql: str) -> list[tuple]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.target) as conn:
                return conn.execute(sql).fetchall()
        with psycopg.connect(self.target) as conn:
            return conn.execute(sql).fetchall()


def make_legacy(kind: str, target: str, version: int) -> Legacy:
    if kind == "sqlite":
        with sqlite3.connect(target) as conn:
            for statement in legacy_statements("sqlite", version):
                conn.execute(statement)
            for sql, params in legacy_rows(version, lambda t: t.isoformat(
                    timespec="microseconds")):
                conn.execute(sql, params)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("PRAGMA journal_mode = WAL")  # as the old store left it
    else:
        with psycopg.connect(target) as conn:
            conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                         "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            for statement in legacy_statements("postgres", version):
                conn.execute(statement)
            for sql, params in legacy_rows(version, lambda t: t):
                conn.execute(sql.replace("?", "%s"), params)
            for number in range(1, version + 1):
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (number,))
    return Legacy(kind, target)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def legacy_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield "sqlite", str(tmp_path / "closer.sqlite3")
    else:
        yield "postgres", request.getfixturevalue("postgres_url")


@pytest.mark.parametrize("sealed", [True, False], ids=["with-key", "without-key"])
def test_a_version_2_database_keeps_every_household(legacy_target: tuple[str, str],
                                                    sealed: bool) -> None:
    legacy = make_legacy(*legacy_target, version=2)
    store = legacy.open(cipher=Cipher(KEY) if sealed else None)
    try:
        assert store.schema_version == SCHEMA_VERSION
        household = store.load("h1")
        assert household.names == ("Xochitl", "Nnamdi") and household.journal_opt_in is True
        assert household.visits == 4 and household.round_state == {"step": "second"}
        assert (household.last_category, household.last_card_id) == ("fun", "fun-2")
        assert store.load("h2").first_name == "Aoife"
        assert store.appreciations_since("h1", T0 - timedelta(days=7)) == [
            Appreciation("Nnamdi", "Xochitl", "you waited for me", T0),
            Appreciation("Xochitl", "Nnamdi", "you sang in the kitchen", T0 - timedelta(days=1),
                         {"round": 1}),
        ]
        # The hug, now a ritual kept to the minute, still counts in the week.
        assert store.rituals_since("h1", T0 - timedelta(days=7)) == [
            Ritual("hug", T0 - timedelta(days=1, minutes=1), 30)]
        assert store.record_hug("h1", 20, T0) == 2
        assert store.local_household_id() == LOCAL_ID
        # Cards heard stay heard, in their order: b is the only unheard one; then the
        # reshuffle never starts with d, the card heard last.
        pool = ["fun-a", "fun-b", "fun-c", "fun-d"]
        assert store.deal_card("h1", pool) == ("fun-b", False)
        card, reshuffled = store.deal_card("h1", pool)
        assert reshuffled and card != "fun-b"
        tables = {row[0] for row in legacy.raw(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if legacy.kind == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert not {t for t in tables if t.startswith("legacy_") or t in ("hugs",
                                                                          "local_device")}
        names = legacy.raw("SELECT first_name, second_name FROM households "
                           "WHERE household_id = 'h1'")[0]
        assert (names == ("Xochitl", "Nnamdi")) is not sealed
    finally:
        store.close()


def test_a_sealed_sqlite_upgrade_leaves_no_old_word_in_the_files(tmp_path: Path) -> None:
    path = tmp_path / "closer.sqlite3"
    make_legacy("sqlite", str(path), version=2)
    store = SQLiteStore(path, cipher=Cipher(KEY))
    store.close()
    data = b"".join(Path(f"{path}{s}").read_bytes() for s in ("", "-wal", "-shm")
                    if Path(f"{path}{s}").exists())
    for word in ("Xochitl", "Nnamdi", "Aoife", "sang in the kitchen", "waited for me"):
        assert word.encode() not in data, word
    with sqlite3.connect(path) as conn:  # the old AUTOINCREMENT tables' counts are gone
        assert conn.execute("SELECT COUNT(*) FROM sqlite_sequence").fetchone() == (0,)


def test_a_version_1_sqlite_database_gets_a_local_id(tmp_path: Path) -> None:
    legacy = make_legacy("sqlite", str(tmp_path / "closer.sqlite3"), version=1)
    store = legacy.open()
    assert store.schema_version == SCHEMA_VERSION
    assert store.load("h1").first_name == "Xochitl"
    assert store.local_household_id().startswith("local.")
    store.close()


def test_a_newer_schema_is_refused(legacy_target: tuple[str, str]) -> None:
    kind, target = legacy_target
    Legacy(kind, target).open().close()
    if kind == "sqlite":
        with sqlite3.connect(target) as conn:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    else:
        with psycopg.connect(target) as conn:
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)",
                         (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreUnavailable, match="newer"):
        Legacy(kind, target).open()
