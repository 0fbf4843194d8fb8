"""SQLite household store: the embedded default (one file, WAL mode, one connection per thread).

Every write is one transaction taken in the writers' turn (``_write``: ``BEGIN IMMEDIATE``
for several statements; ``_write_one``: a single statement, which SQLite commits by
itself), so concurrent requests for the same household (threads or processes, each with
its own connection) serialize and never lose an update. The schema is versioned with
``PRAGMA user_version``; ``MIGRATIONS`` are applied in order, in one transaction, at open.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from skill.store.base import (
    PROFILE_FIELDS,
    Appreciation,
    Household,
    Store,
    StoreUnavailable,
    new_local_household_id,
    pick_card,
    unique_pool,
)

T = TypeVar("T")

# How long a write waits for the database before the user hears "please try again":
# well inside the 8 s Alexa gives a skill (and gunicorn's 7 s worker timeout).
BUSY_TIMEOUT_MS = 3_000
# The write-ahead log is checkpointed by a background thread (see ``_checkpoint_loop``):
# a checkpoint run by a committing request would fsync while every other writer waits for
# its turn, which was most of the webhook's p99 latency under load. Only if that thread
# fell far behind does a commit checkpoint by itself (SQLite's autocheckpoint).
CHECKPOINT_EVERY_S = 0.1
WAL_EMERGENCY_PAGES = 4_000
# After a checkpoint the log is trimmed back to 1 MB (of 4 KB pages). Left at its full size
# it can take all the space freed after the disk filled up, before a checkpoint copies it
# into the database, which then cannot grow: writes keep failing although space was freed.
WAL_LIMIT_BYTES = 256 * 4096
# Cards of the pool ``deal_card`` looks up before it reads every card a household heard.
PICK_SAMPLE = 16
log = logging.getLogger("closer.store")

# Ordered schema migrations; migration i (0-based) brings the schema to user_version i + 1.
# Append new migrations; never edit one that has shipped.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE households (
            household_id   TEXT PRIMARY KEY,
            first_name     TEXT,
            second_name    TEXT,
            journal_opt_in INTEGER,
            visits         INTEGER NOT NULL DEFAULT 0,
            last_category  TEXT,
            last_card_id   TEXT,
            round_state    TEXT,
            checkin_state  TEXT,
            created_at     TEXT NOT NULL,
            updated_at     TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE seen_cards (
            household_id TEXT NOT NULL,
            card_id      TEXT NOT NULL,
            seen_at      TEXT NOT NULL,
            PRIMARY KEY (household_id, card_id)
        )
        """,
        """
        CREATE TABLE hugs (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            household_id TEXT NOT NULL,
            seconds      INTEGER NOT NULL,
            at           TEXT NOT NULL
        )
        """,
        "CREATE INDEX hugs_household_at ON hugs (household_id, at)",
        """
        CREATE TABLE appreciations (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            household_id TEXT NOT NULL,
            giver        TEXT NOT NULL,
            receiver     TEXT NOT NULL,
            text         TEXT NOT NULL,
            said_at      TEXT NOT NULL,
            extra        TEXT NOT NULL DEFAULT '{}'
        )
        """,
        "CREATE INDEX appreciations_household_said_at ON appreciations (household_id, said_at)",
    ),
    (
        # The local speaker's household id: one row, made once per database.
        """
        CREATE TABLE local_device (
            id           INTEGER PRIMARY KEY CHECK (id = 1),
            household_id TEXT NOT NULL,
            created_at   TEXT NOT NULL
        )
        """,
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

# Tables holding rows of a household; ``forget`` empties all of them.
HOUSEHOLD_TABLES = ("seen_cards", "hugs", "appreciations", "households")

_JSON_FIELDS = frozenset({"round_state", "checkin_state"})
_HOUSEHOLD_COLUMNS = (
    "household_id, first_name, second_name, journal_opt_in, visits, last_category, "
    "last_card_id, round_state, checkin_state"
)


def _ts(value: datetime) -> str:
    """ISO-8601 UTC text of fixed width, so text order is time order (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _now() -> str:
    return _ts(datetime.now(UTC))


def _household(row: sqlite3.Row | None, household_id: str) -> Household:
    if row is None:
        return Household(household_id=household_id)
    opt_in = row["journal_opt_in"]
    return Household(
        household_id=row["household_id"],
        first_name=row["first_name"],
        second_name=row["second_name"],
        journal_opt_in=None if opt_in is None else bool(opt_in),
        visits=row["visits"],
        last_category=row["last_category"],
        last_card_id=row["last_card_id"],
        round_state=None if row["round_state"] is None else json.loads(row["round_state"]),
        checkin_state=None if row["checkin_state"] is None else json.loads(row["checkin_state"]),
    )


def _column_value(name: str, value: object) -> object:
    if value is None:
        return None
    if name in _JSON_FIELDS:
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict or None, not {type(value).__name__}")
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if name == "journal_opt_in":
        return int(bool(value))
    return str(value)


class SQLiteStore(Store):
    """Household state in one SQLite file; safe to share across threads and processes."""

    def __init__(self, path: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = Path(path).expanduser()
        self.turn_path = self.path.with_name(self.path.name + ".writers")
        self._turn_fds: list[int] = []
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._thread_turn = threading.Lock()  # see _take_turn
        self._closed = False
        self._wrote = threading.Event()  # set by every commit, cleared by each checkpoint
        self._stopping = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._checkpointer_pid = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create database directory: {exc}") from exc
        self._guard(self._migrate, "cannot open database")

    # -- connections -------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreUnavailable("store is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_ms / 1000,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # only so close() may close it from another thread
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_EMERGENCY_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _turn_fd(self) -> int:
        """This thread's descriptor of the writers' lock file (see ``_write``)."""
        fd: int | None = getattr(self._local, "turn_fd", None)
        if fd is None:
            try:
                fd = os.open(self.turn_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise StoreUnavailable(f"cannot open {self.turn_path.name}: {exc}") from exc
            self._local.turn_fd = fd
            with self._lock:
                self._turn_fds.append(fd)
        return fd

    def _ensure_checkpointer(self) -> None:
        """Start this process's checkpoint thread (again after a fork: threads don't follow)."""
        if self._checkpointer_pid == os.getpid():
            return
        with self._lock:
            if self._checkpointer_pid == os.getpid() or self._closed:
                return
            self._checkpointer_pid = os.getpid()
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="closer-sqlite-checkpoint", daemon=True)
            self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        while not self._stopping.wait(CHECKPOINT_EVERY_S):
            if self._wrote.is_set():
                self._wrote.clear()
                self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database without blocking anyone (PASSIVE)."""
        try:
            self._conn().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except (sqlite3.Error, StoreUnavailable) as exc:  # disk full, closing: next time
            code = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
            log.warning("checkpoint failed", extra={"store": "sqlite", "error": code})

    def _take_turn(self, fd: int) -> None:
        """Threads of this process queue on a lock (handed over at once); then the one at the
        front waits for other processes on the file lock, polling every 0.1 to 2 ms."""
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        if not self._thread_turn.acquire(timeout=self.busy_timeout_ms / 1000):
            raise StoreUnavailable("database busy: another writer holds it")
        delay = 0.0001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._thread_turn.release()
                    raise StoreUnavailable("database busy: another writer holds it") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.002)

    def _end_turn(self, fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        self._thread_turn.release()

    @contextmanager
    def _turn(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, for as long as it holds the writers' turn.

        Writers first take turns (``_take_turn``): a lock among this process's threads,
        then an ``flock`` of a file beside the database among processes. SQLite's own busy
        handler polls with sleeps of 1 to 100 ms, which under concurrent load became the
        webhook's p99 latency. The wait is bounded by ``busy_timeout_ms`` like SQLite's.
        """
        fd = self._turn_fd()
        self._take_turn(fd)
        try:
            # Opened within the turn: a new file's first connection switches it to WAL,
            # which SQLite refuses at once (no busy wait) while another process is doing
            # the same, and two gunicorn workers starting on a fresh file did exactly that.
            yield self._conn()
        finally:
            self._end_turn(fd)

    def _committed(self) -> None:
        self._wrote.set()  # for the checkpoint thread
        self._ensure_checkpointer()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error."""
        with self._turn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            self._committed()

    def _write_one(self, sql: str, params: Sequence[object]) -> list[sqlite3.Row]:
        """One statement as its own transaction (SQLite's autocommit), in the writers' turn.

        For writes that are a single statement, this saves the BEGIN and COMMIT round trips
        of ``_write``. Its read snapshot starts inside the turn, after every other writer
        has committed, so the implicit write lock is never refused for a stale snapshot.
        Every row is fetched: the statement commits when it has run to the end.
        """
        with self._turn() as conn:
            rows = conn.execute(sql, params).fetchall()
            self._committed()
            return rows

    def _guard(self, fn: Callable[[], T], what: str) -> T:
        """Run ``fn``, turning SQLite's operational failures into StoreUnavailable."""
        try:
            return fn()
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
            raise
        except sqlite3.DatabaseError as exc:  # OperationalError: locked, disk full, I/O ...
            # SQLite's error name (SQLITE_FULL, SQLITE_BUSY...) says why and never holds data.
            code = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
            log.error("store unavailable", extra={"store": "sqlite", "operation": what,
                                                  "error": code})
            raise StoreUnavailable(f"{what}: {exc}") from exc

    def _migrate(self) -> None:
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"database schema version {version} is newer than this skill ({SCHEMA_VERSION})"
                )
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    conn.execute(statement)
            if version != SCHEMA_VERSION:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def schema_version(self) -> int:
        return int(
            self._guard(
                lambda: self._conn().execute("PRAGMA user_version").fetchone()[0],
                "cannot read database",
            )
        )

    @staticmethod
    def _ensure_household(conn: sqlite3.Connection, household_id: str, now: str) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO households (household_id, created_at, updated_at) "
            "VALUES (?, ?, ?)",
            (household_id, now, now),
        )

    @staticmethod
    def _select(conn: sqlite3.Connection, household_id: str) -> sqlite3.Row | None:
        return conn.execute(
            f"SELECT {_HOUSEHOLD_COLUMNS} FROM households WHERE household_id = ?",
            (household_id,),
        ).fetchone()

    # -- Store -------------------------------------------------------------------------

    def load(self, household_id: str) -> Household:
        def run() -> Household:
            return _household(self._select(self._conn(), household_id), household_id)

        return self._guard(run, "cannot read household")

    def update(self, household_id: str, **changes: object) -> Household:
        unknown = set(changes) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {', '.join(sorted(unknown))}")
        values = {name: _column_value(name, value) for name, value in changes.items()}

        columns = ["household_id", *values, "created_at", "updated_at"]  # names whitelisted
        changed = [f"{name} = excluded.{name}" for name in (*values, "updated_at")]
        upsert = (
            f"INSERT INTO households ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT (household_id) DO UPDATE SET {', '.join(changed)} "
            f"RETURNING {_HOUSEHOLD_COLUMNS}"
        )
        now = _now()

        def run() -> Household:
            rows = self._write_one(upsert, (household_id, *values.values(), now, now))
            return _household(rows[0], household_id)

        return self._guard(run, "cannot save household")

    def record_visit(self, household_id: str) -> Household:
        now = _now()

        def run() -> Household:
            # The visit changes nothing else, so the state before it is the one returned
            # with one visit less (a new household's row comes back with visits = 1).
            rows = self._write_one(
                "INSERT INTO households (household_id, visits, created_at, updated_at) "
                "VALUES (?, 1, ?, ?) ON CONFLICT (household_id) DO UPDATE SET "
                "visits = visits + 1, updated_at = excluded.updated_at "
                f"RETURNING {_HOUSEHOLD_COLUMNS}",
                (household_id, now, now),
            )
            after = _household(rows[0], household_id)
            return dataclasses.replace(after, visits=after.visits - 1)

        return self._guard(run, "cannot record visit")

    def deal_card(
        self, household_id: str, pool: Sequence[str], rng: random.Random | None = None,
        *, category: str | None = None,
    ) -> tuple[str, bool]:
        cards = unique_pool(pool)

        def run() -> tuple[str, bool]:
            now = _now()
            with self._write() as conn:
                card, reshuffled = self._pick(conn, household_id, cards, rng)
                conn.execute(
                    "INSERT OR REPLACE INTO seen_cards (household_id, card_id, seen_at) "
                    "VALUES (?, ?, ?)",
                    (household_id, card, now),
                )
                if category is None:
                    self._ensure_household(conn, household_id, now)
                else:  # the household's row, made if new, with its last card
                    conn.execute(
                        "INSERT INTO households (household_id, last_category, last_card_id, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (household_id) DO UPDATE SET "
                        "last_category = excluded.last_category, "
                        "last_card_id = excluded.last_card_id, updated_at = excluded.updated_at",
                        (household_id, category, card, now, now),
                    )
                return card, reshuffled

        return self._guard(run, "cannot deal card")

    @staticmethod
    def _pick(conn: sqlite3.Connection, household_id: str, cards: list[str],
              rng: random.Random | None) -> tuple[str, bool]:
        """``pick_card``'s rule without reading every card the household has heard.

        A few cards of the pool in random order are looked up first; the first unheard one
        is dealt. Taken in a random order, every unheard card is equally likely to come
        first, so this deals as ``pick_card`` does. Only when all of them were heard (most
        of the pool is) is the whole list read, newest first, for ``pick_card`` itself.
        A long-time household has heard hundreds of cards: reading them all took most of
        a deal's time.
        """
        candidates = (rng or random).sample(cards, min(PICK_SAMPLE, len(cards)))
        marks = ", ".join("?" * len(candidates))
        heard = {row[0] for row in conn.execute(
            f"SELECT card_id FROM seen_cards WHERE household_id = ? AND card_id IN ({marks})",
            (household_id, *candidates))}
        for card in candidates:
            if card not in heard:
                return card, False
        in_pool = set(cards)
        # Newest first. A fresh insert always gets the highest rowid, so rowid orders
        # exactly even when two deals share a timestamp or the clock steps back.
        seen = [row[0] for row in conn.execute(
            "SELECT card_id FROM seen_cards WHERE household_id = ? ORDER BY rowid DESC",
            (household_id,)) if row[0] in in_pool]
        card, reshuffled = pick_card(cards, seen, rng)
        if reshuffled:
            conn.executemany(
                "DELETE FROM seen_cards WHERE household_id = ? AND card_id = ?",
                [(household_id, seen_card) for seen_card in seen],
            )
        return card, reshuffled

    def record_hug(self, household_id: str, seconds: int, at: datetime) -> int:
        at_text = _ts(at)
        week_ago = _ts(at - timedelta(days=7))

        def run() -> int:
            with self._write() as conn:
                self._ensure_household(conn, household_id, _now())
                conn.execute(
                    "INSERT INTO hugs (household_id, seconds, at) VALUES (?, ?, ?)",
                    (household_id, int(seconds), at_text),
                )
                row = conn.execute(
                    "SELECT COUNT(*) FROM hugs WHERE household_id = ? AND at > ? AND at <= ?",
                    (household_id, week_ago, at_text),
                ).fetchone()
                return int(row[0])

        return self._guard(run, "cannot record hug")

    def add_appreciation(self, household_id: str, appreciation: Appreciation) -> bool:
        params = (
            household_id,
            appreciation.giver,
            appreciation.receiver,
            appreciation.text,
            _ts(appreciation.said_at),
            json.dumps(appreciation.extra, ensure_ascii=False, sort_keys=True),
        )

        def run() -> bool:
            # Inserted only if the journal is on when it commits; no row: never opted in,
            # opted out, or just forgotten.
            saved = self._write_one(
                "INSERT INTO appreciations "
                "(household_id, giver, receiver, text, said_at, extra) "
                "SELECT ?, ?, ?, ?, ?, ? FROM households "
                "WHERE household_id = ? AND journal_opt_in = 1 RETURNING id",
                (*params, household_id),
            )
            return bool(saved)

        return self._guard(run, "cannot save appreciation")

    def appreciations_since(self, household_id: str, since: datetime) -> list[Appreciation]:
        def run() -> list[Appreciation]:
            rows = self._conn().execute(
                "SELECT giver, receiver, text, said_at, extra FROM appreciations "
                "WHERE household_id = ? AND said_at >= ? ORDER BY said_at DESC, id DESC",
                (household_id, _ts(since)),
            )
            return [
                Appreciation(
                    giver=row["giver"],
                    receiver=row["receiver"],
                    text=row["text"],
                    said_at=_parse_ts(row["said_at"]),
                    extra=json.loads(row["extra"] or "{}"),
                )
                for row in rows
            ]

        return self._guard(run, "cannot read appreciations")

    def forget(self, household_id: str) -> None:
        def run() -> None:
            with self._write() as conn:
                for table in HOUSEHOLD_TABLES:
                    conn.execute(f"DELETE FROM {table} WHERE household_id = ?", (household_id,))

        self._guard(run, "cannot forget household")

    def local_household_id(self) -> str:
        def run() -> str:
            with self._write() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO local_device (id, household_id, created_at) "
                    "VALUES (1, ?, ?)",
                    (new_local_household_id(), _now()),
                )
                row = conn.execute("SELECT household_id FROM local_device WHERE id = 1")
                return str(row.fetchone()[0])

        return self._guard(run, "cannot read the local speaker's household")

    def close(self) -> None:
        self._stopping.set()
        checkpointer = self._checkpointer
        if checkpointer is not None and checkpointer is not threading.current_thread():
            checkpointer.join(timeout=5)
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
            turn_fds, self._turn_fds = self._turn_fds, []
        for conn in connections:
            with suppress(sqlite3.Error):
                conn.close()
        for fd in turn_fds:
            with suppress(OSError):
                os.close(fd)
        self._local = threading.local()
