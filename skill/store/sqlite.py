"""SQLite, the embedded default: one file in WAL mode, one connection per thread.

Writes take the writers' turn (skill/store/sqlite_writers.py) and then SQLite's own write
lock (``BEGIN IMMEDIATE``), so a write transaction holds the whole database and household
rows need no locks of their own. The schema version is ``PRAGMA user_version``.

Private at rest: the data folder is made 0700 and the database file 0600 before SQLite
opens it (SQLite gives ``-wal`` and ``-shm`` the database file's mode), whatever the umask.
``secure_delete`` overwrites deleted content, and after a forget the write-ahead log is
checkpointed and truncated, so deleted words stay in none of the three files.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from skill.store.base import Retention, StoreUnavailable
from skill.store.crypto import Cipher
from skill.store.dialect import Dialect
from skill.store.sql import SQLStore
from skill.store.sqlite_writers import Checkpointer, WritersTurn

# How long a write waits for the database before the user hears "please try again":
# well inside the 8 s Alexa gives a skill (and gunicorn's 7 s worker timeout).
BUSY_TIMEOUT_MS = 3_000
# Only if the checkpoint thread fell far behind does a commit checkpoint by itself.
WAL_EMERGENCY_PAGES = 4_000
# After a checkpoint the log is trimmed back to 1 MB (of 4 KB pages). Left at its full size
# it can take all the space freed after the disk filled up, before a checkpoint copies it
# into the database, which then cannot grow: writes keep failing although space was freed.
WAL_LIMIT_BYTES = 256 * 4096
log = logging.getLogger("closer.store")


def make_private(path: Path) -> None:
    """Create the database's missing folders 0700 and the file 0600 (an existing file loses
    any group or world access; existing folders are left as they are)."""
    missing = [parent for parent in reversed(path.parents) if not parent.exists()]
    for folder in missing:
        with suppress(FileExistsError):
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)  # mkdir's mode is filtered by the umask
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        mode = os.fstat(fd).st_mode & 0o777
        if mode & 0o077:
            with suppress(PermissionError):
                os.fchmod(fd, mode & 0o700)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        with suppress(OSError):
            side = path.with_name(path.name + suffix)
            side.chmod(side.stat().st_mode & 0o700)


def _ts(value: datetime) -> str:
    """ISO-8601 UTC text of fixed width, so text order is time order (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class SQLiteDialect(Dialect):
    name = "sqlite"
    row_locks = False
    for_update = ""
    types: ClassVar = {"id": "INTEGER PRIMARY KEY", "time": "TEXT", "bool": "INTEGER",
                       "legacy_seen_order": "rowid"}
    errors = (sqlite3.Error,)

    def __init__(self, path: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = Path(path).expanduser()
        self.busy_timeout_ms = busy_timeout_ms
        try:
            make_private(self.path)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the database: {exc}") from exc
        self.turn = WritersTurn(self.path.with_name(self.path.name + ".writers"),
                                busy_timeout_ms / 1000)
        self._checkpointer = Checkpointer(self.checkpoint)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

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
            for pragma in (f"busy_timeout = {int(self.busy_timeout_ms)}", "journal_mode = WAL",
                           "synchronous = NORMAL", "secure_delete = ON",
                           f"wal_autocheckpoint = {WAL_EMERGENCY_PAGES}",
                           f"journal_size_limit = {WAL_LIMIT_BYTES}"):
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        yield self._conn()

    @contextmanager
    def writing(self, *, single: bool = False) -> Iterator[sqlite3.Connection]:
        # The connection is opened within the turn: a new file's first connection switches
        # it to WAL, which SQLite refuses at once (no busy wait) while another process is
        # doing the same, and two gunicorn workers starting on a fresh file did exactly that.
        # A single statement's read snapshot starts inside the turn, after every other
        # writer has committed, so its implicit write lock is never refused for staleness.
        with self.turn.held():
            conn = self._conn()
            if single:
                yield conn
            else:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        with suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
        self._checkpointer.wrote()

    def migrating(self) -> AbstractContextManager[sqlite3.Connection]:
        return self.writing()

    def schema_version(self, conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, conn: sqlite3.Connection, version: int) -> None:
        conn.execute(f"PRAGMA user_version = {int(version)}")

    def encode_time(self, at: datetime) -> str:
        return _ts(at)

    def decode_time(self, value: str) -> datetime:
        return datetime.fromisoformat(value)

    def is_unavailable(self, exc: BaseException) -> bool:
        # Locked, disk full, I/O, not a database...; not a bug in a statement.
        return not isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError)

    def describe(self, exc: BaseException) -> dict[str, object]:
        # SQLite's error name (SQLITE_FULL, SQLITE_BUSY...) says why and never holds data.
        return {"store": self.name,
                "error": getattr(exc, "sqlite_errorname", None) or type(exc).__name__}

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database without blocking anyone (PASSIVE)."""
        try:
            self._conn().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except (sqlite3.Error, StoreUnavailable) as exc:  # disk full, closing: next time
            log.warning("checkpoint failed", extra=self.describe(exc))

    def scrub(self) -> None:
        """Copy the log into the database and truncate it to zero bytes, so deleted text
        lives in no old log frame. Readers still on an old snapshot hold it back a moment."""
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        with self.turn.held():
            conn = self._conn()
            while conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
                if time.monotonic() >= deadline:
                    log.warning("write-ahead log not emptied", extra={"store": self.name})
                    return
                time.sleep(0.005)

    def close(self) -> None:
        self._checkpointer.close()
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            with suppress(sqlite3.Error):
                conn.close()
        self.turn.close()
        self._local = threading.local()


class SQLiteStore(SQLStore):
    """The store on one SQLite file; safe to share across threads and processes."""

    dialect: SQLiteDialect

    def __init__(self, path: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS, *,
                 cipher: Cipher | None = None, retention: Retention | None = None) -> None:
        super().__init__(SQLiteDialect(path, busy_timeout_ms), cipher=cipher,
                         retention=retention)

    @property
    def path(self) -> Path:
        return self.dialect.path

    @property
    def turn_path(self) -> Path:
        return self.dialect.turn.lock_path
