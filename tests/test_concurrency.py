"""Store guarantees under concurrency (skill/store/base.py), on a real SQLite file and a real
PostgreSQL server: many processes and threads working on one household never repeat a card
while unheard ones remain, never lose an update, and a forget that races with writers
deletes everything written before it and leaves no half household after it."""

from __future__ import annotations

import itertools
import multiprocessing
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from skill.store import Appreciation, Store
from tests.support.pg_server import postgres_server, postgres_url  # noqa: F401 - fixtures
from tests.support.threads import run_threads

pytestmark = pytest.mark.system  # processes and a real PostgreSQL

T0 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
CHILD_TABLES = ("seen_cards", "rituals", "appreciations", "reminders")
SPAWN = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class Database:
    """One database, opened by as many stores (threads, processes) as a test likes."""

    kind: str  # "sqlite" | "postgres"
    target: str  # file path or URL

    def open(self) -> Store:
        if self.kind == "sqlite":
            from skill.store.sqlite import SQLiteStore

            return SQLiteStore(self.target)
        from skill.store.postgres import PostgresStore

        return PostgresStore(self.target)

    def rows(self, household_id: str) -> dict[str, list[dict]]:
        """Every row of the household in every table, read in one consistent snapshot."""
        tables = ("households", *CHILD_TABLES)
        if self.kind == "sqlite":
            with closing(sqlite3.connect(self.target, isolation_level=None)) as conn:
                conn.row_factory = sqlite3.Row
                conn.execute("BEGIN")
                out = {t: [dict(r) for r in conn.execute(
                    f"SELECT * FROM {t} WHERE household_id = ?", (household_id,))]
                    for t in tables}
                conn.execute("COMMIT")
                return out
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.target, row_factory=dict_row) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return {t: conn.execute(f"SELECT * FROM {t} WHERE household_id = %s",
                                    (household_id,)).fetchall() for t in tables}

    def execute(self, statements: list[tuple[str, tuple]]) -> Callable[[], None]:
        """Run statements in a transaction that holds the household's write lock; returns
        the commit. Plays a concurrent request caught in the middle of its write."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.target, isolation_level=None, check_same_thread=False)
            conn.execute("BEGIN IMMEDIATE")
            for sql, params in statements:
                conn.execute(sql.replace("%s", "?"), params)

            def commit_sqlite() -> None:
                conn.execute("COMMIT")
                conn.close()

            return commit_sqlite
        import psycopg

        pg = psycopg.connect(self.target)
        for sql, params in statements:
            pg.execute(sql, params)

        def commit_pg() -> None:
            pg.commit()
            pg.close()

        return commit_pg


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database("sqlite", str(tmp_path / "closer.sqlite3"))
    else:
        db = Database("postgres", request.getfixturevalue("postgres_url"))
    db.open().close()  # create the schema before any race
    yield db


def assert_whole(rows: dict[str, list[dict]]) -> None:
    """No half household: child rows only under a household row, a journal only with consent."""
    if not rows["households"]:
        for table in CHILD_TABLES:
            assert rows[table] == [], f"{table} rows without a household row"
    elif rows["appreciations"]:
        assert rows["households"][0]["journal_opt_in"], "journal entries without opt-in"


# -- processes: cards and updates ------------------------------------------------------


def _deal_worker(db: Database, household: str, pool: list[str], threads: int,
                 per_thread: int) -> list[tuple[str, bool]]:
    store = db.open()
    dealt: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def deal(_: int) -> None:
        for _ in range(per_thread):
            card = store.deal_card(household, pool)
            with lock:
                dealt.append(card)

    try:
        run_threads(threads, deal)
    finally:
        store.close()
    return dealt


def test_processes_dealing_for_one_household_never_repeat_a_card(database: Database) -> None:
    # 3 processes x 2 threads x 20 deals = exactly three rounds through a 40-card pool.
    pool = [f"card-{i:02d}" for i in range(40)]
    with SPAWN.Pool(3) as workers:
        parts = workers.starmap(_deal_worker, [(database, "h1", pool, 2, 20)] * 3)
    dealt = [deal for part in parts for deal in part]
    # Each round deals every card once, so three rounds deal each card exactly three times,
    # and only the first deal of round two and of round three reshuffles.
    assert Counter(card for card, _ in dealt) == dict.fromkeys(pool, 3)
    assert sum(reshuffled for _, reshuffled in dealt) == 2
    store = database.open()
    try:
        # Round three is complete: the next deal reshuffles again.
        assert store.deal_card("h1", pool)[1] is True
    finally:
        store.close()


def _write_worker(db: Database, household: str, worker: int, count: int) -> None:
    store = db.open()
    try:
        for n in range(count):
            text = f"w{worker}-{n}"
            assert store.add_appreciation(household, Appreciation("A", "B", text, T0)) is True
            store.record_hug(household, 5 + n, T0 - timedelta(minutes=worker * count + n))
            store.set_reminder(household, "hug", f"{n % 24:02d}:{worker:02d}")
            store.record_visit(household)
            store.update(household, last_card_id=text)
    finally:
        store.close()


def test_processes_writing_to_one_household_lose_nothing(database: Database) -> None:
    store = database.open()
    try:
        store.update("h1", journal_opt_in=True)
        with SPAWN.Pool(3) as workers:
            workers.starmap(_write_worker, [(database, "h1", w, 25) for w in range(4)])
        texts = {a.text for a in store.appreciations_since("h1", T0 - timedelta(days=1))}
        assert texts == {f"w{w}-{n}" for w in range(4) for n in range(25)}
        assert store.load("h1").visits == 100
        assert store.record_hug("h1", 5, T0) == 101
        assert_whole(database.rows("h1"))
    finally:
        store.close()


# -- forget racing with writers --------------------------------------------------------


@dataclass
class Write:
    tag: int
    kind: str
    started: float
    ended: float | None = None


class Writers:
    """Threads, each with its own store, hammering one household with tagged writes: the hug
    length, appreciation text, reminder token and first name carry the write's tag."""

    def __init__(self, db: Database, household: str, count: int) -> None:
        self.db, self.household = db, household
        self.stores = [db.open() for _ in range(count)]
        self.writes: list[Write] = []
        self.lock = threading.Lock()
        self.tags = itertools.count(1000)
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(s,)) for s in self.stores]

    def _one(self, store: Store, kind: str, tag: int) -> None:
        h = self.household
        if kind == "hug":
            store.record_hug(h, tag, T0)
        elif kind == "appreciation":
            store.add_appreciation(h, Appreciation("A", "B", f"t{tag}", T0))
        elif kind == "names":
            store.update(h, first_name=f"t{tag}", journal_opt_in=True)
        elif kind == "card":
            store.deal_card(h, [f"c{i}" for i in range(30)])
        elif kind == "reminder":
            store.set_reminder(h, "hug", "08:00", f"t{tag}")
        else:
            store.record_visit(h)

    def _run(self, store: Store) -> None:
        kinds = itertools.cycle(["names", "hug", "appreciation", "card", "reminder", "visit"])
        try:
            while not self.stop.is_set():
                with self.lock:
                    write = Write(next(self.tags), next(kinds), time.monotonic())
                    self.writes.append(write)
                self._one(store, write.kind, write.tag)
                write.ended = time.monotonic()
        except BaseException as exc:  # noqa: BLE001 - reported by finish()
            self.errors.append(exc)

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        for store in self.stores:
            store.close()
        assert not self.errors, self.errors

    def finished_before(self, moment: float) -> set[int]:
        with self.lock:
            return {w.tag for w in self.writes if w.ended is not None and w.ended < moment}


def _tags(rows: dict[str, list[dict]]) -> set[int]:
    found = {row["seconds"] for row in rows["rituals"]}
    found |= {int(row["alexa_token"][1:]) for row in rows["reminders"]}
    found |= {int(row["text"][1:]) for row in rows["appreciations"]}
    found |= {int(row["first_name"][1:]) for row in rows["households"] if row["first_name"]}
    return found


def test_forget_racing_with_writers_deletes_everything_written_before_it(
    database: Database,
) -> None:
    forgetter = database.open()
    try:
        with Writers(database, "h1", 4) as writers:
            for _ in range(12):
                time.sleep(0.05)
                started = time.monotonic()
                forgetter.forget("h1")
                rows = database.rows("h1")  # writers are still going
                # Whatever was acknowledged before the forget began committed before it.
                survivors = _tags(rows) & writers.finished_before(started)
                assert not survivors, f"rows written before the forget survived: {survivors}"
                assert_whole(rows)
        assert len(writers.writes) > 100  # the race really happened
        assert_whole(database.rows("h1"))
        forgetter.forget("h1")
        assert all(not rows for rows in database.rows("h1").values())
    finally:
        forgetter.close()


def test_forget_deletes_a_write_that_commits_while_it_waits(database: Database) -> None:
    store = database.open()
    try:
        store.update("h1", first_name="Sam", journal_opt_in=True)
        # A concurrent request holds the household's lock, mid-write: a hug and an appreciation.
        lock = ("SELECT household_id FROM households WHERE household_id = %s FOR UPDATE"
                if database.kind == "postgres" else "SELECT 1 WHERE %s IS NOT NULL")
        commit = database.execute([
            (lock, ("h1",)),
            ("INSERT INTO rituals (household_id, kind, at, seconds) VALUES (%s, %s, %s, %s)",
             ("h1", "hug", T0.isoformat(), 20)),
            ("INSERT INTO appreciations (household_id, giver, receiver, text, said_at) "
             "VALUES (%s, %s, %s, %s, %s)", ("h1", "Sam", "Alex", "in flight", T0.isoformat())),
        ])
        forgetting = threading.Thread(target=store.forget, args=("h1",))
        forgetting.start()
        time.sleep(0.3)  # the forget is now waiting for the lock
        assert forgetting.is_alive()
        commit()
        forgetting.join(timeout=30)
        assert not forgetting.is_alive()
        assert all(not rows for rows in database.rows("h1").values())
    finally:
        store.close()


def test_appreciation_read_before_a_forget_is_not_kept_after_it(database: Database) -> None:
    store = database.open()
    try:
        store.update("h1", first_name="Sam", second_name="Alex", journal_opt_in=True)
        household = store.load("h1")  # the request sees the journal on ...
        store.forget("h1")  # ... another device forgets the household ...
        assert household.journal_opt_in  # ... and the request goes on to save.
        saved = store.add_appreciation("h1", Appreciation("Sam", "Alex", "you cooked", T0))
        assert saved is False
        assert all(not rows for rows in database.rows("h1").values())
    finally:
        store.close()


def test_writes_after_a_forget_start_a_whole_new_household(database: Database) -> None:
    store = database.open()
    try:
        store.update("h1", first_name="Sam", journal_opt_in=True, round_state={"step": "second"})
        store.record_visit("h1")
        for _ in range(3):
            store.deal_card("h1", ["a", "b", "c"])
        store.record_hug("h1", 20, T0)
        store.add_appreciation("h1", Appreciation("Sam", "Alex", "thanks", T0))
        store.forget("h1")

        assert store.record_hug("h1", 30, T0) == 1  # the old hug does not count
        assert_whole(database.rows("h1"))  # the hug has a household row to be forgotten by
        assert store.deal_card("h1", ["a", "b", "c"])[1] is False  # no old seen marks
        before = store.record_visit("h1")
        assert before.is_new and before.names is None and before.journal_opt_in is None
        assert before.round_state is None
        assert store.appreciations_since("h1", T0 - timedelta(days=1)) == []
        store.forget("h1")
        assert all(not rows for rows in database.rows("h1").values())
    finally:
        store.close()
