"""What differs between SQLite and PostgreSQL, and nothing else (skill/store/sql.py is the store).

A dialect owns the connections and says how to talk to its database: placeholders, how a
timestamp is stored, the DDL types the schema is rendered with, how a write transaction
serializes with the household's other writers (``row_locks``, ``for_update``), which of the
driver's errors mean "the database is unavailable", and what to do after a forget.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar

Connection = Any  # a DB-API connection (sqlite3 or psycopg) whose rows are mappings
Row = Mapping[str, Any]


class Dialect(abc.ABC):
    name: ClassVar[str]
    # True: a write holds only what it locks, so it locks the household's row
    # (``SELECT ... FOR UPDATE``); False: a write transaction holds the whole database.
    row_locks: ClassVar[bool]
    for_update: ClassVar[str]
    # DDL types the schema templates name: {id}, {time}, {bool}, {legacy_seen_order}.
    types: ClassVar[Mapping[str, str]]
    # The driver's base error class(es); ``is_unavailable`` says which mean "try again".
    errors: ClassVar[tuple[type[BaseException], ...]]

    def sql(self, text: str) -> str:
        """The statement with this driver's placeholders (statements are written with ``?``)."""
        return text

    def render(self, template: str) -> str:
        return template.format(**self.types)

    @abc.abstractmethod
    def reading(self) -> AbstractContextManager[Connection]:
        """A connection for reads outside any write transaction."""

    @abc.abstractmethod
    def writing(self, *, single: bool = False) -> AbstractContextManager[Connection]:
        """One write transaction, serialized with the database's other writers as far as
        the dialect must (SQLite: the writers' turn and ``BEGIN IMMEDIATE``), committed on
        success and rolled back on error. ``single``: the caller runs one statement, which
        the database commits by itself (and fetches all its rows inside the block)."""

    @abc.abstractmethod
    def migrating(self) -> AbstractContextManager[Connection]:
        """A write transaction that also holds the schema's migration lock."""

    @abc.abstractmethod
    def schema_version(self, conn: Connection) -> int:
        """The applied schema version; 0 for an empty database."""

    @abc.abstractmethod
    def set_schema_version(self, conn: Connection, version: int) -> None: ...

    @abc.abstractmethod
    def encode_time(self, at: datetime) -> object: ...

    @abc.abstractmethod
    def decode_time(self, value: Any) -> datetime: ...

    @abc.abstractmethod
    def is_unavailable(self, exc: BaseException) -> bool:
        """The error means the database cannot be used right now (not a bug in a statement)."""

    @abc.abstractmethod
    def describe(self, exc: BaseException) -> dict[str, object]:
        """Log fields that say why, never what: error codes, not messages (they may quote data)."""

    @property
    def in_outage(self) -> bool:
        """The server is unreachable (an embedded database never is)."""
        return False

    def failed(self, exc: BaseException) -> None:  # noqa: B027 - optional hook
        """A call failed with an unavailable-error (PostgreSQL shortens its waits)."""

    def succeeded(self) -> None:  # noqa: B027 - optional hook
        """A call succeeded."""

    def scrub(self) -> None:  # noqa: B027 - optional hook
        """After a forget (or sealing old plain text): leave no deleted bytes behind."""

    @abc.abstractmethod
    def close(self) -> None: ...


def in_clause(values: list[str]) -> str:
    """``(?, ?, ...)`` for a list of values (never empty)."""
    return "(" + ", ".join("?" * len(values)) + ")"
