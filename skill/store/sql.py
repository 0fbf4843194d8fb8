"""The household store, written once over a dialect (skill/store/dialect.py): SQLite or
PostgreSQL. The guarantees are those of skill/store/base.py.

Plain DB-API and a small dialect rather than SQLAlchemy: the two databases differ in a
handful of places (placeholders, a timestamp type, how a write serializes, which errors
mean "try again"), every statement here is portable SQL (``ON CONFLICT``, ``RETURNING``),
and the write path is the product's hottest code: SQLAlchemy Core would add its statement
compilation and result wrapping to every request and a dependency to every install, and
hide the SQLite writers' turn and PostgreSQL's row locks that the guarantees rest on.

How writes serialize, per household: a single statement (``update``, ``record_visit``,
``add_appreciation``, ``mark_nudged``) is an upsert or a conditional insert, which takes
the household row's lock on PostgreSQL and the database's write lock on SQLite. Several
statements run in one transaction that first claims the household (``_claim``: makes its
row if needed and, where the dialect has row locks, locks it).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import random
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from skill.store import base, schema
from skill.store.base import (
    PROFILE_FIELDS,
    Appreciation,
    Household,
    Retention,
    Store,
    StoreUnavailable,
    check_reminder,
    check_ritual,
    new_local_household_id,
    pick_card,
    to_minute,
    unique_pool,
)
from skill.store.crypto import Cipher, UndecryptableValue
from skill.store.dialect import Connection, Dialect, Row, in_clause

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("closer.store")

# Cards of the pool ``deal_card`` looks up before it reads every card a household heard.
PICK_SAMPLE = 16
JSON_FIELDS = frozenset({"round_state", "checkin_state", "deep_state"})
# What is sealed with the cipher: table -> (its row key, the sealed columns).
SEALED = {
    "households": ("household_id", ("first_name", "second_name", *sorted(JSON_FIELDS))),
    "appreciations": ("id", ("giver", "receiver", "text", "extra")),
}
_HOUSEHOLD_COLUMNS = (
    "household_id, first_name, second_name, journal_opt_in, visits, last_category, "
    "last_card_id, round_state, checkin_state, deep_state"
)
_KEY_CHECK = "closer-together"  # sealed in store_meta: shows the key opens this database


def guarded(what: str, *, writes: bool = False) -> Callable[[F], F]:
    """Run the method with the schema ready, turning the database's "cannot now" errors and
    values no key opens into StoreUnavailable (the user hears "please try again"). Every
    wait inside is bounded by the dialect (busy timeout, pool and statement timeouts).
    A write may then purge what the retention promise no longer covers."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def run(self: SQLStore, *args: Any, **kwargs: Any) -> Any:
            try:
                if not self._ready:
                    self._ensure_schema()
                result = method(self, *args, **kwargs)
            except UndecryptableValue as exc:
                log.error("store unavailable", extra={"store": self.dialect.name,
                                                      "operation": what, "error": "undecryptable"})
                raise StoreUnavailable(f"{what}: {exc}") from exc
            except self.dialect.errors as exc:
                if not self.dialect.is_unavailable(exc):
                    raise
                self.dialect.failed(exc)
                log.error("store unavailable",
                          extra={"operation": what, **self.dialect.describe(exc)})
                raise StoreUnavailable(f"{what}: {exc}") from exc
            self.dialect.succeeded()
            if writes and self.retention is not None:
                self._purge_if_due(self.retention)
            return result

        return run  # type: ignore[return-value]

    return decorate


class SQLStore(Store):
    """Household state in a SQL database; safe to share across threads, processes and hosts.

    ``cipher``: names, appreciations and ritual states are stored sealed with it; a
    database that holds plain text is sealed when first opened with one, and a sealed
    database refuses to open without one (or with a key that does not open it). Without a
    cipher the store keeps plain text: for tests and tools; the product always passes one.
    Every process sharing a database must be given the same keys.
    ``retention``: old appreciations and rituals are deleted by it; without one, the store
    keeps them until ``forget``.
    """

    def __init__(self, dialect: Dialect, *, cipher: Cipher | None = None,
                 retention: Retention | None = None) -> None:
        self.dialect = dialect
        self.cipher = cipher
        self.retention = retention
        self._ready = False
        self._schema_lock = threading.Lock()
        self._purged_at: datetime | None = None
        try:
            self._open()
        except StoreUnavailable:
            if not dialect.in_outage:  # a real problem (a newer schema, the wrong key)
                dialect.close()
                raise
            # The server is down right now: start anyway and answer "please try again"
            # until it is back (a worker restarted during an outage must not take the whole
            # instance down with it); the schema is brought up to date on first contact.
            log.warning("store unreachable at start", extra={"store": dialect.name})
        except BaseException:
            dialect.close()
            raise

    # -- plumbing ------------------------------------------------------------------------

    def _run(self, conn: Connection, sql: str, params: Sequence[object] = ()) -> Any:
        return conn.execute(self.dialect.sql(sql), tuple(params))

    def _write_one(self, sql: str, params: Sequence[object]) -> list[Row]:
        """One statement as its own transaction; every row fetched (it commits at its end)."""
        with self.dialect.writing(single=True) as conn:
            return self._run(conn, sql, params).fetchall()

    def _read(self, sql: str, params: Sequence[object]) -> list[Row]:
        with self.dialect.reading() as conn:
            return self._run(conn, sql, params).fetchall()

    @guarded("cannot open database")
    def _open(self) -> None:
        """Nothing more: the guard makes the schema ready."""

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._schema_lock:
            if not self._ready:
                self._prepare()
                self._ready = True

    def _prepare(self) -> None:
        """Migrate, then make sure the data key (or its absence) fits the database."""
        with self.dialect.migrating() as conn:
            version = self.dialect.schema_version(conn)
            if version > schema.SCHEMA_VERSION:
                raise StoreUnavailable(f"database schema version {version} is newer than "
                                       f"this skill ({schema.SCHEMA_VERSION})")
            if version < schema.SCHEMA_VERSION:
                schema.migrate(conn, self.dialect, version, self._run)
            sealed_now = self._check_key(conn)
        if sealed_now:
            self.dialect.scrub()  # the plain text left in the log goes too

    def _check_key(self, conn: Connection) -> bool:
        """True if this call sealed a database that held plain text."""
        row = self._run(conn, "SELECT value FROM store_meta WHERE name = 'key_check'").fetchone()
        if row is None and self.cipher is None:
            return False
        if self.cipher is None:
            raise StoreUnavailable("the database is encrypted: its data key is needed")
        if row is not None:
            try:
                self.cipher.decrypt(row["value"], household_id="", column="key_check")
            except UndecryptableValue:
                raise StoreUnavailable("the data key does not open this database") from None
            return False
        self._reseal(conn, opened=None)
        return True

    # -- sealing -------------------------------------------------------------------------

    def _seal(self, household_id: str, column: str, value: str | None) -> str | None:
        if value is None or self.cipher is None:
            return value
        return self.cipher.encrypt(value, household_id=household_id, column=column)

    def _unseal(self, household_id: str, column: str, stored: str | None) -> str | None:
        if stored is None or self.cipher is None:
            return stored
        return self.cipher.decrypt(stored, household_id=household_id, column=column)

    def _seal_json(self, household_id: str, column: str, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise TypeError(f"{column} must be a dict or None, not {type(value).__name__}")
        return self._seal(household_id, column, json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True))

    def _unseal_json(self, household_id: str, column: str, stored: str | None) -> dict | None:
        text = self._unseal(household_id, column, stored)
        return None if text is None else json.loads(text)

    def _reseal(self, conn: Connection, opened: Callable[[str, str, str], str] | None) -> int:
        """Seal every sealed column's value under the cipher's current key. ``opened`` gives
        a sealed value's plain text (values already under the current key are left as they
        are); None: the database holds plain text. Returns how many values it wrote."""
        assert self.cipher is not None
        cipher = self.cipher
        written = 0
        for table, (key, columns) in SEALED.items():
            names = ", ".join(columns)
            for row in self._run(conn, f"SELECT {key}, household_id, {names} FROM {table}"
                                 ).fetchall():
                household_id = row["household_id"]
                values = {}
                for column in columns:
                    stored = row[column]
                    if stored is None or (opened and cipher.is_current(stored)):
                        continue
                    plain = opened(stored, household_id, column) if opened else stored
                    values[column] = self._seal(household_id, column, plain)
                if values:
                    sets = ", ".join(f"{column} = ?" for column in values)
                    self._run(conn, f"UPDATE {table} SET {sets} WHERE {key} = ?",
                              (*values.values(), row[key]))
                    written += len(values)
        self._run(conn, "DELETE FROM store_meta WHERE name = 'key_check'")
        self._run(conn, "INSERT INTO store_meta (name, value) VALUES ('key_check', ?)",
                  (self.cipher.encrypt(_KEY_CHECK, household_id="", column="key_check"),))
        return written

    @guarded("cannot re-encrypt", writes=True)
    def reencrypt(self) -> int:
        """Key rotation: re-seal every value not already under the cipher's current key
        (opened with whichever old key sealed it). Returns how many values were rewritten.
        Run it once after making the new key current with the old one kept as an old key;
        afterwards the old key may be dropped."""
        if self.cipher is None:
            raise ValueError("re-encrypting needs a cipher")
        cipher = self.cipher
        with self.dialect.writing() as conn:
            return self._reseal(conn, opened=lambda stored, household_id, column:
                                cipher.decrypt(stored, household_id=household_id, column=column))

    # -- households ----------------------------------------------------------------------

    def _household(self, row: Row | None, household_id: str) -> Household:
        if row is None:
            return Household(household_id=household_id)
        hid = row["household_id"]
        opt_in = row["journal_opt_in"]
        return Household(
            household_id=hid,
            first_name=self._unseal(hid, "first_name", row["first_name"]),
            second_name=self._unseal(hid, "second_name", row["second_name"]),
            journal_opt_in=None if opt_in is None else bool(opt_in),
            visits=row["visits"],
            last_category=row["last_category"],
            last_card_id=row["last_card_id"],
            **{field: self._unseal_json(hid, field, row[field]) for field in JSON_FIELDS},
        )

    def _column_value(self, household_id: str, name: str, value: object) -> object:
        if name in JSON_FIELDS:
            return self._seal_json(household_id, name, value)
        if value is None:
            return None
        if name == "journal_opt_in":
            return bool(value)
        if name in ("first_name", "second_name"):
            return self._seal(household_id, name, str(value))
        return str(value)

    def _claim(self, conn: Connection, household_id: str) -> None:
        """Make the household's row if needed and hold it for this transaction (SQLite's
        write transaction already holds the whole database)."""
        while True:
            self._run(conn, "INSERT INTO households (household_id) VALUES (?) "
                            "ON CONFLICT (household_id) DO NOTHING", (household_id,))
            if not self.dialect.row_locks:
                return
            held = self._run(conn, "SELECT household_id FROM households WHERE household_id = ?"
                                   f"{self.dialect.for_update}", (household_id,)).fetchone()
            if held is not None:
                return
            # A concurrent forget deleted the row between our insert and lock: again.

    @guarded("cannot read household")
    def load(self, household_id: str) -> Household:
        rows = self._read(f"SELECT {_HOUSEHOLD_COLUMNS} FROM households WHERE household_id = ?",
                          (household_id,))
        return self._household(rows[0] if rows else None, household_id)

    def update(self, household_id: str, **changes: object) -> Household:
        unknown = set(changes) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {', '.join(sorted(unknown))}")
        values = {name: self._column_value(household_id, name, value)
                  for name, value in changes.items()}
        return self._upsert(household_id, values)

    @guarded("cannot save household", writes=True)
    def _upsert(self, household_id: str, values: dict[str, object]) -> Household:
        columns = ["household_id", *values]  # names whitelisted by PROFILE_FIELDS
        changed = [f"{name} = excluded.{name}" for name in values] or [
            "household_id = excluded.household_id"]  # nothing to change: return the row
        rows = self._write_one(
            f"INSERT INTO households ({', '.join(columns)}) VALUES {in_clause(columns)} "
            f"ON CONFLICT (household_id) DO UPDATE SET {', '.join(changed)} "
            f"RETURNING {_HOUSEHOLD_COLUMNS}",
            (household_id, *values.values()))
        return self._household(rows[0], household_id)

    @guarded("cannot record visit", writes=True)
    def record_visit(self, household_id: str) -> Household:
        # The visit changes nothing else, so the state before it is the one returned with
        # one visit less (a new household's row comes back with visits = 1).
        rows = self._write_one(
            "INSERT INTO households (household_id, visits) VALUES (?, 1) "
            "ON CONFLICT (household_id) DO UPDATE SET visits = households.visits + 1 "
            f"RETURNING {_HOUSEHOLD_COLUMNS}", (household_id,))
        after = self._household(rows[0], household_id)
        return dataclasses.replace(after, visits=after.visits - 1)

    # -- cards ---------------------------------------------------------------------------

    @guarded("cannot deal card", writes=True)
    def deal_card(
        self, household_id: str, pool: Sequence[str], rng: random.Random | None = None,
        *, category: str | None = None, talked_at: datetime | None = None,
    ) -> tuple[str, bool]:
        cards = unique_pool(pool)
        with self.dialect.writing() as conn:
            self._claim(conn, household_id)
            card, reshuffled = self._pick(conn, household_id, cards, rng)
            if reshuffled:
                self._run(conn, "DELETE FROM seen_cards WHERE household_id = ? "
                                f"AND card_id IN {in_clause(cards)}", (household_id, *cards))
            # The card is unheard (or its mark was just cleared), so this never conflicts.
            self._run(conn, "INSERT INTO seen_cards (household_id, card_id) VALUES (?, ?)",
                      (household_id, card))
            if category is not None:
                self._run(conn, "UPDATE households SET last_category = ?, last_card_id = ? "
                                "WHERE household_id = ?", (category, card, household_id))
            if talked_at is not None:
                self._insert_ritual(conn, household_id, "question", talked_at, None)
            return card, reshuffled

    def _pick(self, conn: Connection, household_id: str, cards: list[str],
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
        heard = {row["card_id"] for row in self._run(
            conn, "SELECT card_id FROM seen_cards WHERE household_id = ? "
                  f"AND card_id IN {in_clause(candidates)}", (household_id, *candidates))}
        for card in candidates:
            if card not in heard:
                return card, False
        in_pool = set(cards)
        seen = [row["card_id"] for row in self._run(
            conn, "SELECT card_id FROM seen_cards WHERE household_id = ? ORDER BY seq DESC",
            (household_id,)) if row["card_id"] in in_pool]
        return pick_card(cards, seen, rng)

    # -- rituals -------------------------------------------------------------------------

    def _insert_ritual(self, conn: Connection, household_id: str, kind: str, at: datetime,
                       seconds: int | None) -> None:
        self._claim(conn, household_id)
        self._run(conn, "INSERT INTO rituals (household_id, kind, at, seconds) "
                        "VALUES (?, ?, ?, ?)",
                  (household_id, kind, self.dialect.encode_time(to_minute(at)),
                   None if seconds is None else int(seconds)))

    @guarded("cannot record hug", writes=True)
    def record_hug(self, household_id: str, seconds: int, at: datetime) -> int:
        at = to_minute(at)
        with self.dialect.writing() as conn:
            self._insert_ritual(conn, household_id, "hug", at, seconds)
            row = self._run(
                conn, "SELECT COUNT(*) AS hugs FROM rituals WHERE household_id = ? "
                      "AND kind = 'hug' AND at > ? AND at <= ?",
                (household_id, self.dialect.encode_time(at - timedelta(days=7)),
                 self.dialect.encode_time(at))).fetchone()
            return int(row["hugs"])

    @guarded("cannot record ritual", writes=True)
    def record_ritual(self, household_id: str, kind: str, at: datetime,
                      seconds: int | None = None) -> None:
        check_ritual(kind)
        with self.dialect.writing() as conn:
            self._insert_ritual(conn, household_id, kind, at, seconds)

    @guarded("cannot read rituals")
    def rituals_since(self, household_id: str, since: datetime) -> list[base.Ritual]:
        rows = self._read("SELECT kind, at, seconds FROM rituals WHERE household_id = ? "
                          "AND at >= ? ORDER BY at, kind",
                          (household_id, self.dialect.encode_time(since)))
        return [base.Ritual(row["kind"], self.dialect.decode_time(row["at"]), row["seconds"])
                for row in rows]

    # -- the journal ---------------------------------------------------------------------

    @guarded("cannot save appreciation", writes=True)
    def add_appreciation(self, household_id: str, appreciation: Appreciation) -> bool:
        def sealed(column: str, text: str) -> str | None:
            return self._seal(household_id, column, text)

        extra = self._seal_json(household_id, "extra", appreciation.extra or None)  # NULL: {}
        # Inserted only if the journal is on when it commits; no row: never opted in,
        # opted out, or just forgotten (a forget holding the row lock is waited for).
        saved = self._write_one(
            "INSERT INTO appreciations (household_id, giver, receiver, text, said_at, extra) "
            "SELECT household_id, ?, ?, ?, ?, ? FROM households "
            f"WHERE household_id = ? AND journal_opt_in = TRUE{self.dialect.for_update} "
            "RETURNING id",
            (sealed("giver", appreciation.giver), sealed("receiver", appreciation.receiver),
             sealed("text", appreciation.text), self.dialect.encode_time(appreciation.said_at),
             extra, household_id))
        return bool(saved)

    @guarded("cannot read appreciations")
    def appreciations_since(self, household_id: str, since: datetime) -> list[Appreciation]:
        rows = self._read(
            "SELECT giver, receiver, text, said_at, extra FROM appreciations "
            "WHERE household_id = ? AND said_at >= ? ORDER BY said_at DESC, id DESC",
            (household_id, self.dialect.encode_time(since)))
        return [
            Appreciation(
                giver=self._unseal(household_id, "giver", row["giver"]) or "",
                receiver=self._unseal(household_id, "receiver", row["receiver"]) or "",
                text=self._unseal(household_id, "text", row["text"]) or "",
                said_at=self.dialect.decode_time(row["said_at"]),
                extra=self._unseal_json(household_id, "extra", row["extra"]) or {},
            )
            for row in rows
        ]

    # -- reminders -----------------------------------------------------------------------

    @staticmethod
    def _reminder(row: Row) -> base.Reminder:
        nudged = row["last_nudged"]
        return base.Reminder(row["ritual"], row["local_time"], row["alexa_token"],
                        None if nudged is None else date.fromisoformat(nudged))

    @guarded("cannot save reminder", writes=True)
    def set_reminder(self, household_id: str, ritual: str, local_time: str,
                     alexa_token: str | None = None) -> base.Reminder | None:
        check_reminder(ritual, local_time)
        with self.dialect.writing() as conn:
            self._claim(conn, household_id)
            old = self._run(conn, "SELECT ritual, local_time, alexa_token, last_nudged "
                                  "FROM reminders WHERE household_id = ? AND ritual = ?",
                            (household_id, ritual)).fetchone()
            self._run(conn, "INSERT INTO reminders (household_id, ritual, local_time, "
                            "alexa_token) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT (household_id, ritual) DO UPDATE SET "
                            "local_time = excluded.local_time, "
                            "alexa_token = excluded.alexa_token, last_nudged = NULL",
                      (household_id, ritual, local_time, alexa_token))
            return None if old is None else self._reminder(old)

    @guarded("cannot read reminders")
    def reminders(self, household_id: str) -> list[base.Reminder]:
        rows = self._read("SELECT ritual, local_time, alexa_token, last_nudged FROM reminders "
                          "WHERE household_id = ? ORDER BY local_time, ritual", (household_id,))
        return [self._reminder(row) for row in rows]

    @guarded("cannot remove reminders", writes=True)
    def clear_reminders(self, household_id: str) -> list[base.Reminder]:
        rows = self._write_one(
            "DELETE FROM reminders WHERE household_id = ? "
            "RETURNING ritual, local_time, alexa_token, last_nudged", (household_id,))
        return sorted((self._reminder(row) for row in rows),
                      key=lambda reminder: (reminder.local_time, reminder.ritual))

    @guarded("cannot note the nudge", writes=True)
    def mark_nudged(self, household_id: str, ritual: str, on_date: date) -> bool:
        day = on_date.isoformat()
        rows = self._write_one(
            "UPDATE reminders SET last_nudged = ? WHERE household_id = ? AND ritual = ? "
            "AND (last_nudged IS NULL OR last_nudged <> ?) RETURNING ritual",
            (day, household_id, ritual, day))
        return bool(rows)

    # -- forgetting and keeping ----------------------------------------------------------

    @guarded("cannot forget household")
    def forget(self, household_id: str) -> None:
        with self.dialect.writing() as conn:
            self._claim(conn, household_id)
            for table in schema.HOUSEHOLD_TABLES:  # names are constants
                self._run(conn, f"DELETE FROM {table} WHERE household_id = ?", (household_id,))
        self.dialect.scrub()
        if self.cipher is not None:
            self.cipher.forget_opened()

    @guarded("cannot purge old rows")
    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete appreciations older than the journal's window and rituals older than
        the week's needs (``retention``, or the default promise); returns how many."""
        return self._purge(now)

    def _purge(self, now: datetime | None) -> int:
        retention = self.retention or Retention()
        now = now or retention.clock()
        with self.dialect.writing() as conn:
            journal = self._run(conn, "DELETE FROM appreciations WHERE said_at < ?",
                                (self.dialect.encode_time(retention.journal_cutoff(now)),))
            rituals = self._run(conn, "DELETE FROM rituals WHERE at < ?",
                                (self.dialect.encode_time(retention.activity_cutoff(now)),))
            return journal.rowcount + rituals.rowcount

    def _purge_if_due(self, retention: Retention) -> None:
        """At most once every ``retention.purge_every`` per process, after a write."""
        now = retention.clock()
        if self._purged_at is not None and now - self._purged_at < retention.purge_every:
            return
        self._purged_at = now  # first, so other threads do not purge at the same time
        try:
            self._purge(now)
        except (StoreUnavailable, *self.dialect.errors) as exc:  # next write tries again
            self._purged_at = None
            log.warning("purge failed", extra={"error": type(exc).__name__})

    @guarded("cannot read the local speaker's household")
    def local_household_id(self) -> str:
        with self.dialect.writing() as conn:
            self._run(conn, "INSERT INTO store_meta (name, value) "
                            "VALUES ('local_household_id', ?) ON CONFLICT (name) DO NOTHING",
                      (new_local_household_id(),))
            row = self._run(conn, "SELECT value FROM store_meta "
                                  "WHERE name = 'local_household_id'").fetchone()
            return str(row["value"])

    @property
    @guarded("cannot read database")
    def schema_version(self) -> int:
        with self.dialect.reading() as conn:
            return self.dialect.schema_version(conn)

    def close(self) -> None:
        self.dialect.close()
