"""PostgreSQL (``CLOSER_DATABASE_URL=postgresql://...``): psycopg 3 and a connection pool.

Writes lock the household's row (``SELECT ... FOR UPDATE``, or the row lock an upsert
takes), so requests for the same household - threads, processes or hosts - serialize and
never lose an update, and ``forget`` serializes with concurrent writes. The schema version
is kept in ``schema_migrations``; migrations run under a transaction-scoped advisory lock
so several instances may open the database at once. While the server is unreachable every
call fails fast with StoreUnavailable, and the store heals by itself (see OUTAGE_WAIT_S).
Connections to anything but a local socket or a loopback address require TLS.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from skill.store.base import Retention
from skill.store.crypto import Cipher
from skill.store.dialect import Dialect
from skill.store.sql import SQLStore

log = logging.getLogger("closer.store")

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
_PLAIN_SSLMODES = frozenset({"disable", "allow", "prefer"})


def require_tls(url: str) -> str:
    """The connection string, asking for TLS (``sslmode=require``) unless every host is a
    local socket or a loopback address. A non-local URL that turns TLS off is refused."""
    params = conninfo_to_dict(url)
    hosts = [host for host in str(params.get("host") or "").split(",") if host]
    if all(_is_local(host) for host in hosts):
        return url
    mode = params.get("sslmode")
    if mode in _PLAIN_SSLMODES:
        raise ValueError(f"sslmode={mode} would send households' data in the clear to a "
                         "remote server; use require, verify-ca or verify-full")
    return url if mode else make_conninfo(url, sslmode="require")


def _is_local(host: str) -> bool:
    if host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_outage(exc: BaseException) -> bool:
    """The server is unreachable or going away (not a problem with one statement)."""
    if isinstance(exc, PoolTimeout | psycopg.InterfaceError):
        return True
    state = getattr(exc, "sqlstate", None)
    # None: failed on the client side (connect, lost connection); 08: connection
    # exception; 57P: the server shutting down or starting up.
    return state is None or state.startswith(("08", "57P"))


@lru_cache(maxsize=256)
def _placeholders(text: str) -> str:
    return text.replace("?", "%s")


class PostgresDialect(Dialect):
    name = "postgres"
    row_locks = True
    for_update = " FOR UPDATE"
    types: ClassVar = {"id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                       "time": "TIMESTAMPTZ", "bool": "BOOLEAN", "legacy_seen_order": "seq"}
    errors = (psycopg.Error,)

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8,
                 timeout_s: float = 1.0) -> None:
        """``timeout_s``: the longest a request waits for a connection while the database is
        thought reachable. With more connections (``max_size``) than a gunicorn worker has
        threads, connections are only missing at start or after an outage."""
        self.url = url
        self.timeout_s = timeout_s
        self._outage = False  # set by a failure that means "unreachable", cleared by a success
        self._pool = ConnectionPool(
            require_tls(url),
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

    def sql(self, text: str) -> str:
        return _placeholders(text)

    def _checkout(self) -> Any:
        """A pooled connection (context manager), waiting briefly if the server is away."""
        wait = OUTAGE_WAIT_S if self._outage else self.timeout_s
        return self._pool.connection(timeout=min(wait, self.timeout_s))

    @contextmanager
    def reading(self) -> Iterator[psycopg.Connection[Any]]:
        with self._checkout() as conn:
            yield conn

    @contextmanager
    def writing(self, *, single: bool = False) -> Iterator[psycopg.Connection[Any]]:
        with self._checkout() as conn:
            if single:  # autocommit: the statement is its own transaction
                yield conn
            else:
                with conn.transaction():
                    yield conn

    @contextmanager
    def migrating(self) -> Iterator[psycopg.Connection[Any]]:
        with self.writing() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version INTEGER PRIMARY KEY,"
                         " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            yield conn

    def schema_version(self, conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        return int(row.fetchone()["v"])

    def set_schema_version(self, conn: psycopg.Connection[Any], version: int) -> None:
        conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))

    def encode_time(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return at.astimezone(UTC)

    def decode_time(self, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def is_unavailable(self, exc: BaseException) -> bool:
        # OperationalError covers: server down, pool timeout/closed, serialization
        # failures, deadlocks, admin shutdown. InterfaceError: connection lost/closed.
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)

    def describe(self, exc: BaseException) -> dict[str, object]:
        # The class name and SQLSTATE say why; the message could quote values, so no.
        return {"store": self.name, "error": type(exc).__name__,
                "sqlstate": getattr(exc, "sqlstate", None)}

    @property
    def in_outage(self) -> bool:
        return self._outage

    def failed(self, exc: BaseException) -> None:
        self._outage = self._outage or _is_outage(exc)

    def succeeded(self) -> None:
        self._outage = False

    def close(self) -> None:
        with suppress(Exception):
            self._pool.close(timeout=self.timeout_s)


class PostgresStore(SQLStore):
    """The store on PostgreSQL; safe to share across threads, processes and hosts."""

    dialect: PostgresDialect

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8,
                 timeout_s: float = 1.0, cipher: Cipher | None = None,
                 retention: Retention | None = None) -> None:
        super().__init__(PostgresDialect(url, min_size=min_size, max_size=max_size,
                                         timeout_s=timeout_s),
                         cipher=cipher, retention=retention)
