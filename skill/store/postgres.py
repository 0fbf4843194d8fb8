"""PostgreSQL household store (``CLOSER_DATABASE_URL=postgresql://...``), psycopg 3 + a pool.

Every write runs in one transaction that first makes sure the household's row exists
(``INSERT ... ON CONFLICT DO NOTHING``) and then locks it (``SELECT ... FOR UPDATE``), so
concurrent requests for the same household - threads, processes or hosts - serialize and
never lose an update, and ``forget`` serializes with concurrent writes. The schema is
versioned in ``schema_migrations``; ``MIGRATIONS`` are applied in order at open (or at
first contact, if the server is down then), under a transaction-scoped advisory lock so
several instances may open the database at once. While the server is unreachable every
call fails fast with StoreUnavailable, and the store heals by itself (see OUTAGE_WAIT_S).
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

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
log = logging.getLogger("closer.store")

# Ordered schema migrations; migration i (0-based) brings the schema to version i + 1.
# Append new migrations; never edit one that has shipped.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE households (
            household_id   TEXT PRIMARY KEY,
            first_name     TEXT,
            second_name    TEXT,
            journal_opt_in BOOLEAN,
            visits         INTEGER NOT NULL DEFAULT 0,
            last_category  TEXT,
            last_card_id   TEXT,
            round_state    JSONB,
            checkin_state  JSONB,
            created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE TABLE seen_cards (
            household_id TEXT NOT NULL,
            card_id      TEXT NOT NULL,
            seen_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
            seq          BIGSERIAL NOT NULL,
            PRIMARY KEY (household_id, card_id)
        )
        """,
        """
        CREATE TABLE hugs (
            id           BIGSERIAL PRIMARY KEY,
            household_id TEXT NOT NULL,
            seconds      INTEGER NOT NULL,
            at           TIMESTAMPTZ NOT NULL
        )
        """,
        "CREATE INDEX hugs_household_at ON hugs (household_id, at)",
        """
        CREATE TABLE appreciations (
            id           BIGSERIAL PRIMARY KEY,
            household_id TEXT NOT NULL,
            giver        TEXT NOT NULL,
            receiver     TEXT NOT NULL,
            text         TEXT NOT NULL,
            said_at      TIMESTAMPTZ NOT NULL,
            extra        JSONB NOT NULL DEFAULT '{}'
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
            created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """,
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

# Tables holding rows of a household; ``forget`` empties all of them (households last).
HOUSEHOLD_TABLES = ("seen_cards", "hugs", "appreciations", "households")

# Key of the advisory lock that serializes migrations ("closer-together schema").
MIGRATION_LOCK_KEY = 0x436C6F7365720001

# When the database goes away (restart, crash, network), a request must not hang: it
# hears "please try again" at once. After a failure that means the server is unreachable,
# requests wait at most OUTAGE_WAIT_S for a connection instead of the full timeout, until
# one succeeds again. Meanwhile the pool keeps reconnecting in the background; each
# reconnection gives up after RECONNECT_S (its retry delays double, 1, 2, 4 s...), and the
# next request starts a fresh one, so recovery follows within about a second or two.
OUTAGE_WAIT_S = 0.1
RECONNECT_S = 5.0
STATEMENT_TIMEOUT_MS = 3_000
CONNECT_TIMEOUT_S = 2  # libpq's minimum that means anything; matters for dropped packets

_JSON_FIELDS = frozenset({"round_state", "checkin_state"})
_HOUSEHOLD_COLUMNS = (
    "household_id, first_name, second_name, journal_opt_in, visits, last_category, "
    "last_card_id, round_state, checkin_state"
)


def _utc(value: datetime) -> datetime:
    """An aware UTC datetime (naive means UTC, as in the SQLite store)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _is_outage(exc: Exception) -> bool:
    """The server is unreachable or going away (not a problem with one statement)."""
    if isinstance(exc, PoolTimeout | psycopg.InterfaceError):
        return True
    state = getattr(exc, "sqlstate", None)
    # None: failed on the client side (connect, lost connection); 08: connection
    # exception; 57P: the server shutting down or starting up.
    return state is None or state.startswith(("08", "57P"))


def _household(row: dict[str, Any] | None, household_id: str) -> Household:
    if row is None:
        return Household(household_id=household_id)
    return Household(
        household_id=row["household_id"],
        first_name=row["first_name"],
        second_name=row["second_name"],
        journal_opt_in=row["journal_opt_in"],
        visits=row["visits"],
        last_category=row["last_category"],
        last_card_id=row["last_card_id"],
        round_state=row["round_state"],
        checkin_state=row["checkin_state"],
    )


def _column_value(name: str, value: object) -> object:
    if value is None:
        return None
    if name in _JSON_FIELDS:
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict or None, not {type(value).__name__}")
        # Round-trip through JSON text so stored values match the SQLite store exactly.
        return Jsonb(json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True)))
    if name == "journal_opt_in":
        return bool(value)
    return str(value)


class PostgresStore(Store):
    """Household state in PostgreSQL; safe to share across threads, processes and hosts."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        timeout_s: float = 1.0,
    ) -> None:
        """``timeout_s``: the longest a request waits for a connection while the database is
        thought reachable. With more connections (``max_size``) than a gunicorn worker has
        threads, connections are only missing at start or after an outage."""
        self.url = url
        self.timeout_s = timeout_s
        self._outage = False  # set by a failure that means "unreachable", cleared by a success
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout_s,
            open=False,
            # Check each connection as it is taken (one round trip): after a server restart
            # the pool's idle connections are dead, and requests must not be the ones to find
            # out mid-transaction.
            check=ConnectionPool.check_connection,
            reconnect_timeout=RECONNECT_S,
            kwargs={
                "autocommit": True,  # transactions are explicit: conn.transaction()
                "connect_timeout": CONNECT_TIMEOUT_S,
                # A server that hangs rather than goes away must still mean "please try
                # again" well inside Alexa's 8 s: bound statements and lock waits.
                "options": f"-c timezone=UTC -c statement_timeout={STATEMENT_TIMEOUT_MS} "
                           f"-c lock_timeout={STATEMENT_TIMEOUT_MS}",
                "row_factory": dict_row,
            },
            name="closer-store",
        )
        self._pool.open(wait=False)
        try:
            self._guard(self._ensure_schema, "cannot open database")
        except StoreUnavailable:
            if not self._outage:  # a real problem (say, a newer schema): refuse to start
                self._close_pool()
                raise
            # The server is down right now: start anyway and answer "please try again"
            # until it is back (a worker restarted during an outage must not take the whole
            # instance down with it); the schema is brought up to date on first contact.
            log.warning("store unreachable at start", extra={"store": "postgres"})
        except BaseException:
            self._close_pool()
            raise

    # -- connections -------------------------------------------------------------------

    def _checkout(self) -> Any:
        """A pooled connection (context manager), waiting briefly if the server is away."""
        wait = OUTAGE_WAIT_S if self._outage else self.timeout_s
        return self._pool.connection(timeout=min(wait, self.timeout_s))

    def _connection(self) -> Any:
        self._ensure_schema()
        return self._checkout()

    @contextmanager
    def _read(self) -> Iterator[psycopg.Connection[Any]]:
        with self._connection() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction: committed on success, rolled back on error."""
        with self._connection() as conn, conn.transaction():
            yield conn

    def _guard(self, fn: Callable[[], T], what: str) -> T:
        """Run ``fn``, turning connection/pool failures into StoreUnavailable."""
        try:
            result = fn()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            # OperationalError covers: server down, pool timeout/closed, serialization
            # failures, deadlocks, admin shutdown. InterfaceError: connection lost/closed.
            # The class name and SQLSTATE say why; the message could quote values, so no.
            self._outage = self._outage or _is_outage(exc)
            log.error("store unavailable", extra={
                "store": "postgres", "operation": what, "error": type(exc).__name__,
                "sqlstate": getattr(exc, "sqlstate", None)})
            raise StoreUnavailable(f"{what}: {exc}") from exc
        self._outage = False
        return result

    def _ensure_schema(self) -> None:
        """Apply migrations once per store, on first contact with the server."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                self._migrate()
                self._schema_ready = True

    def _migrate(self) -> None:
        with self._checkout() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            row = conn.execute("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
            version = int(row.fetchone()["v"])
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"database schema version {version} is newer than this skill ({SCHEMA_VERSION})"
                )
            for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (number,))

    @property
    def schema_version(self) -> int:
        def run() -> int:
            with self._read() as conn:
                row = conn.execute("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
                return int(row.fetchone()["v"])

        return self._guard(run, "cannot read database")

    @staticmethod
    def _lock_household(conn: psycopg.Connection[Any], household_id: str) -> dict[str, Any]:
        """Create the household's row if needed and lock it for this transaction."""
        while True:
            conn.execute(
                "INSERT INTO households (household_id) VALUES (%s) "
                "ON CONFLICT (household_id) DO NOTHING",
                (household_id,),
            )
            row = conn.execute(
                f"SELECT {_HOUSEHOLD_COLUMNS} FROM households WHERE household_id = %s FOR UPDATE",
                (household_id,),
            ).fetchone()
            if row is not None:
                return row
            # A concurrent forget deleted the row between our insert and lock: retry.

    @staticmethod
    def _select(conn: psycopg.Connection[Any], household_id: str) -> dict[str, Any] | None:
        return conn.execute(
            f"SELECT {_HOUSEHOLD_COLUMNS} FROM households WHERE household_id = %s",
            (household_id,),
        ).fetchone()

    # -- Store -------------------------------------------------------------------------

    def load(self, household_id: str) -> Household:
        def run() -> Household:
            with self._read() as conn:
                return _household(self._select(conn, household_id), household_id)

        return self._guard(run, "cannot read household")

    def update(self, household_id: str, **changes: object) -> Household:
        unknown = set(changes) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {', '.join(sorted(unknown))}")
        values = {name: _column_value(name, value) for name, value in changes.items()}

        def run() -> Household:
            with self._write() as conn:
                self._lock_household(conn, household_id)
                if values:
                    assignments = ", ".join(f"{name} = %s" for name in values)  # whitelisted
                    conn.execute(
                        f"UPDATE households SET {assignments}, updated_at = now() "
                        "WHERE household_id = %s",
                        (*values.values(), household_id),
                    )
                return _household(self._select(conn, household_id), household_id)

        return self._guard(run, "cannot save household")

    def record_visit(self, household_id: str) -> Household:
        def run() -> Household:
            with self._write() as conn:
                # A just-created row holds the defaults, i.e. the state of a new household.
                before = _household(self._lock_household(conn, household_id), household_id)
                conn.execute(
                    "UPDATE households SET visits = visits + 1, updated_at = now() "
                    "WHERE household_id = %s",
                    (household_id,),
                )
                return before

        return self._guard(run, "cannot record visit")

    def deal_card(
        self, household_id: str, pool: Sequence[str], rng: random.Random | None = None,
        *, category: str | None = None,
    ) -> tuple[str, bool]:
        cards = unique_pool(pool)

        def run() -> tuple[str, bool]:
            with self._write() as conn:
                self._lock_household(conn, household_id)
                # Newest first: every (re)mark takes a fresh sequence number.
                seen = [
                    row["card_id"]
                    for row in conn.execute(
                        "SELECT card_id FROM seen_cards "
                        "WHERE household_id = %s AND card_id = ANY(%s) ORDER BY seq DESC",
                        (household_id, cards),
                    )
                ]
                card, reshuffled = pick_card(cards, seen, rng)
                if reshuffled:
                    conn.execute(
                        "DELETE FROM seen_cards WHERE household_id = %s AND card_id = ANY(%s)",
                        (household_id, cards),
                    )
                conn.execute(
                    "INSERT INTO seen_cards (household_id, card_id) VALUES (%s, %s) "
                    "ON CONFLICT (household_id, card_id) "
                    "DO UPDATE SET seen_at = EXCLUDED.seen_at, seq = EXCLUDED.seq",
                    (household_id, card),
                )
                if category is not None:
                    conn.execute(
                        "UPDATE households SET last_category = %s, last_card_id = %s, "
                        "updated_at = now() WHERE household_id = %s",
                        (category, card, household_id),
                    )
                return card, reshuffled

        return self._guard(run, "cannot deal card")

    def record_hug(self, household_id: str, seconds: int, at: datetime) -> int:
        at_utc = _utc(at)
        week_ago = at_utc - timedelta(days=7)

        def run() -> int:
            with self._write() as conn:
                self._lock_household(conn, household_id)
                conn.execute(
                    "INSERT INTO hugs (household_id, seconds, at) VALUES (%s, %s, %s)",
                    (household_id, int(seconds), at_utc),
                )
                row = conn.execute(
                    "SELECT COUNT(*) AS n FROM hugs "
                    "WHERE household_id = %s AND at > %s AND at <= %s",
                    (household_id, week_ago, at_utc),
                ).fetchone()
                return int(row["n"])

        return self._guard(run, "cannot record hug")

    def add_appreciation(self, household_id: str, appreciation: Appreciation) -> bool:
        extra = json.loads(json.dumps(appreciation.extra, ensure_ascii=False, sort_keys=True))
        params = (
            household_id,
            appreciation.giver,
            appreciation.receiver,
            appreciation.text,
            _utc(appreciation.said_at),
            Jsonb(extra),
        )

        def run() -> bool:
            with self._write() as conn:
                # Lock without creating: a household that has no row has no journal. A
                # concurrent forget either waits for this lock or leaves no row to find.
                row = conn.execute(
                    "SELECT journal_opt_in FROM households WHERE household_id = %s FOR UPDATE",
                    (household_id,),
                ).fetchone()
                if row is None or not row["journal_opt_in"]:
                    return False  # no journal: never opted in, opted out, or just forgotten
                conn.execute(
                    "INSERT INTO appreciations "
                    "(household_id, giver, receiver, text, said_at, extra) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    params,
                )
                return True

        return self._guard(run, "cannot save appreciation")

    def appreciations_since(self, household_id: str, since: datetime) -> list[Appreciation]:
        def run() -> list[Appreciation]:
            with self._read() as conn:
                rows = conn.execute(
                    "SELECT giver, receiver, text, said_at, extra FROM appreciations "
                    "WHERE household_id = %s AND said_at >= %s ORDER BY said_at DESC, id DESC",
                    (household_id, _utc(since)),
                ).fetchall()
            return [
                Appreciation(
                    giver=row["giver"],
                    receiver=row["receiver"],
                    text=row["text"],
                    said_at=_utc(row["said_at"]),
                    extra=row["extra"] or {},
                )
                for row in rows
            ]

        return self._guard(run, "cannot read appreciations")

    def forget(self, household_id: str) -> None:
        def run() -> None:
            with self._write() as conn:
                self._lock_household(conn, household_id)
                for table in HOUSEHOLD_TABLES:  # names are constants
                    conn.execute(f"DELETE FROM {table} WHERE household_id = %s", (household_id,))

        self._guard(run, "cannot forget household")

    def local_household_id(self) -> str:
        def run() -> str:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO local_device (id, household_id) VALUES (1, %s) "
                    "ON CONFLICT (id) DO NOTHING",
                    (new_local_household_id(),),
                )
                row = conn.execute("SELECT household_id FROM local_device WHERE id = 1")
                return str(row.fetchone()["household_id"])

        return self._guard(run, "cannot read the local speaker's household")

    def _close_pool(self) -> None:
        with suppress(Exception):
            self._pool.close(timeout=self.timeout_s)

    def close(self) -> None:
        self._close_pool()
