"""The household store interface: everything the skill remembers about a household.

A household is one Alexa account (the request's ``userId``) or one local speaker.

Guarantees under concurrency, on every implementation (threads, processes and hosts
sharing one database):

- Every write is one transaction, serialized with every other write of the same
  household, so no update is lost: concurrent hugs, appreciations, visits and profile
  changes all land (SQLite: its database write lock; PostgreSQL: the household's row lock).
- Cards: ``deal_card`` never deals a card the household has already heard from that pool
  while the pool still holds an unheard one, however many requests deal at once.
- Every stored row belongs to a household row: a write that stores a ritual, an
  appreciation, a reminder or a seen card creates or finds the household's row in the same
  transaction. There are never orphaned rows that ``load`` cannot see and ``forget`` could miss.

Privacy at rest (see skill/store/crypto.py and README: Privacy):

- Forget means gone: ``forget`` deletes every row of the household in one transaction; on
  SQLite deleted content is overwritten (``secure_delete``) and the write-ahead log is then
  emptied, so no byte of it stays in the database, ``-wal`` or ``-shm`` files.
- With a ``Cipher``, names, appreciations (text, giver, receiver, extra) and the free-form
  ritual states are stored encrypted (AES-GCM, bound to the household and column).
- With a ``Retention``, appreciations older than the journal's window and rituals older
  than the week's needs are deleted automatically.

What ``forget`` means when requests race with it:

1. It is atomic and ordered: every other write of the household commits entirely before
   the forget or entirely after it; a forget never leaves part of a household behind.
2. Before is gone: when ``forget`` returns, no row of the household committed before the
   forget committed survives, in any table. This includes what a concurrent request was
   writing: a write in flight when ``forget`` started either commits first (and is then
   deleted) or commits after (and then obeys 3 and 4).
3. After is a new household: a write that commits after the forget sees a household never
   seen (no names, opt-in, visits, seen cards, hugs or journal) and stores only what that
   call itself carries; nothing deleted can come back through it.
4. No journal without consent: ``add_appreciation`` stores the appreciation only if the
   household's journal is on (``journal_opt_in`` is True) when it commits. A forget turns
   the journal off (the household row is gone), so an appreciation that raced with a
   forget - even one whose request read the opt-in just before - is not kept.

What the store cannot know is which request a write belongs to: a request that read the
household before a forget and writes after it (say, the next step of an appreciation round)
starts the new household with that one value, as rule 3 says; its names and journal stay gone.
"""

from __future__ import annotations

import abc
import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or written right now (the user hears "please try again")."""


@dataclass(frozen=True)
class Household:
    """What the skill knows about one household; a fresh household has the defaults."""

    household_id: str
    first_name: str | None = None
    second_name: str | None = None
    journal_opt_in: bool | None = None  # None: not asked yet
    visits: int = 0
    last_category: str | None = None
    last_card_id: str | None = None
    # Progress of an unfinished ritual, so it can resume that evening.
    round_state: dict | None = None
    checkin_state: dict | None = None
    deep_state: dict | None = None

    @property
    def is_new(self) -> bool:
        """Never opened the skill and nothing kept from a one-shot request either ("ask
        closer together for a question" remembers the card but is not a visit)."""
        return self.visits == 0 and self == Household(self.household_id)

    @property
    def names(self) -> tuple[str, str] | None:
        if self.first_name and self.second_name:
            return self.first_name, self.second_name
        return None


@dataclass(frozen=True)
class Appreciation:
    giver: str
    receiver: str
    text: str
    said_at: datetime
    extra: dict = field(default_factory=dict)


class Ritual(NamedTuple):
    """One ritual done, for "how did we do this week": kind, when (to the minute), and
    how long where that means something (a hug's seconds)."""

    kind: str
    at: datetime
    seconds: int | None = None


@dataclass(frozen=True)
class Reminder:
    """A daily nudge: the ritual's ``RitualType`` id, the household's local time "HH:MM",
    Alexa's reminder token when Alexa keeps it, and the day the local speaker last spoke it."""

    ritual: str
    local_time: str
    alexa_token: str | None = None
    last_nudged: date | None = None


# Fields of Household that ``update`` may change.
PROFILE_FIELDS = frozenset(
    {
        "first_name",
        "second_name",
        "journal_opt_in",
        "last_category",
        "last_card_id",
        "round_state",
        "checkin_state",
        "deep_state",
    }
)
# What ``record_ritual`` logs (one row per ritual done).
RITUAL_KINDS = frozenset(
    {"appreciation_round", "hug", "question", "checkin", "listening", "deep_conversation",
     "quiet_round"}
)
# What a reminder may nudge: the interaction model's ``RitualType`` ids.
REMINDER_RITUALS = frozenset({"appreciation", "hug", "question", "checkin", "listening"})
_LOCAL_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")

# The journal reads seven days; a couple may keep it longer, up to a month, never more.
JOURNAL_DAYS = 7
MAX_JOURNAL_DAYS = 31
# Rituals are counted over the last seven days; one more covers any time zone's "this week".
ACTIVITY_DAYS = 8


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Retention:
    """How long the store keeps what a household did: appreciations for ``journal_days``
    (the journal's window), rituals for ``ACTIVITY_DAYS``. Older rows are deleted at open
    and then at most once every ``purge_every`` by the first write after it (per process),
    by the ``clock``'s time."""

    journal_days: int = JOURNAL_DAYS
    clock: Callable[[], datetime] = utc_now
    purge_every: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if not JOURNAL_DAYS <= self.journal_days <= MAX_JOURNAL_DAYS:
            raise ValueError(f"the journal keeps {JOURNAL_DAYS} to {MAX_JOURNAL_DAYS} days, "
                             f"not {self.journal_days}")

    def journal_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.journal_days)

    def activity_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=ACTIVITY_DAYS)


def check_ritual(kind: str) -> str:
    if kind not in RITUAL_KINDS:
        raise ValueError(f"unknown ritual kind {kind!r}")
    return kind


def check_reminder(ritual: str, local_time: str) -> None:
    if ritual not in REMINDER_RITUALS:
        raise ValueError(f"unknown reminder ritual {ritual!r}")
    if not _LOCAL_TIME.fullmatch(local_time):
        raise ValueError(f"a reminder's time is HH:MM, not {local_time!r}")


def to_minute(at: datetime) -> datetime:
    """``at`` in UTC, to the minute: ritual times are kept no finer than that."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def unique_pool(pool: Sequence[str]) -> list[str]:
    """The pool's card ids without repeats, in pool order (deterministic with a seeded rng)."""
    cards = list(dict.fromkeys(pool))
    if not cards:
        raise ValueError("cannot deal from an empty pool")
    return cards


def pick_card(
    cards: Sequence[str], seen_newest_first: Sequence[str], rng: random.Random | None = None
) -> tuple[str, bool]:
    """The card rule every store applies inside its transaction; ``(card_id, reshuffled)``.

    ``seen_newest_first``: the household's heard cards from this pool, newest first.
    While the pool has unheard cards, one of them. Otherwise the pool is reshuffled (the
    caller clears the pool's seen marks) and any card but the one heard last is dealt.
    """
    chooser = rng or random  # the module's functions share one generator
    seen = set(seen_newest_first)
    unseen = [card for card in cards if card not in seen]
    if unseen:
        return chooser.choice(unseen), False
    last = seen_newest_first[0]
    return chooser.choice([card for card in cards if card != last] or list(cards)), True


def new_local_household_id() -> str:
    return f"local.{uuid.uuid4()}"


class Store(abc.ABC):
    """Household state. The product's implementation is skill/store/sql.py (SQLite or
    PostgreSQL); bench/memory_store.py is a measuring aid."""

    @abc.abstractmethod
    def load(self, household_id: str) -> Household:
        """The household's state; defaults for a household never seen (nothing is written)."""

    @abc.abstractmethod
    def update(self, household_id: str, **changes: object) -> Household:
        """Set some PROFILE_FIELDS (creating the household if needed); returns the new state."""

    @abc.abstractmethod
    def record_visit(self, household_id: str) -> Household:
        """Count one more session for the household; returns the state *before* this visit."""

    @abc.abstractmethod
    def deal_card(
        self, household_id: str, pool: Sequence[str], rng: random.Random | None = None,
        *, category: str | None = None, talked_at: datetime | None = None,
    ) -> tuple[str, bool]:
        """Pick a card id from ``pool`` the household has not heard, and mark it heard.

        Any pool of ids works (a category, the whole deck, the deeper conversation's
        sequence). When every card in ``pool`` has been heard, the pool is reshuffled: its
        seen marks are cleared and a card other than the last one dealt is picked.
        With ``category``, the same transaction also records the card and its category as
        the household's last (``last_card_id``, ``last_category``), for "repeat" and
        "another one" in a later session; with ``talked_at``, it logs a ``question`` ritual
        for the week (one write for both). Returns ``(card_id, reshuffled)``. Atomic per
        household.
        """

    @abc.abstractmethod
    def record_hug(self, household_id: str, seconds: int, at: datetime) -> int:
        """Log one hug (a ``hug`` ritual); returns how many hugs the household had in the 7
        days up to ``at``."""

    @abc.abstractmethod
    def record_ritual(
        self, household_id: str, kind: str, at: datetime, seconds: int | None = None
    ) -> None:
        """Log one ritual done (``RITUAL_KINDS``), to the minute, for the week's look back."""

    @abc.abstractmethod
    def rituals_since(self, household_id: str, since: datetime) -> list[Ritual]:
        """Rituals done at or after ``since`` (hugs included), oldest first."""

    @abc.abstractmethod
    def add_appreciation(self, household_id: str, appreciation: Appreciation) -> bool:
        """Save one appreciation to the household's journal; False (nothing saved) if the
        journal is not on at commit time: never opted in, opted out, or forgotten."""

    @abc.abstractmethod
    def appreciations_since(self, household_id: str, since: datetime) -> list[Appreciation]:
        """Saved appreciations said at or after ``since``, newest first."""

    @abc.abstractmethod
    def set_reminder(
        self, household_id: str, ritual: str, local_time: str, alexa_token: str | None = None
    ) -> Reminder | None:
        """Keep a daily nudge for ``ritual`` (``REMINDER_RITUALS``) at ``local_time``
        ("HH:MM"); one per ritual. Returns the reminder it replaced (its Alexa token is the
        one to delete at Amazon), or None."""

    @abc.abstractmethod
    def reminders(self, household_id: str) -> list[Reminder]:
        """The household's nudges, earliest in the day first."""

    @abc.abstractmethod
    def clear_reminders(self, household_id: str) -> list[Reminder]:
        """Remove every nudge of the household; returns what was removed (with tokens)."""

    @abc.abstractmethod
    def mark_nudged(self, household_id: str, ritual: str, on_date: date) -> bool:
        """Note that the local speaker spoke ``ritual``'s nudge on ``on_date``; True only
        for the first call for that day (so two speakers, or a restart, never nudge twice),
        False if already nudged that day or there is no such reminder."""

    @abc.abstractmethod
    def forget(self, household_id: str) -> None:
        """Delete everything stored for the household (see the module docstring for races)."""

    @abc.abstractmethod
    def local_household_id(self) -> str:
        """The household id of this database's local speaker: made once (random, so it says
        nothing about the machine), then the same on every start, so the journal and the
        cards heard survive restarts. It names a household but holds none of its data, so
        ``forget`` leaves it: the forgotten household simply starts afresh under it."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
