"""The household store interface: everything the skill remembers about a household.

A household is one Alexa account (the request's ``userId``) or one local speaker.
Every method is atomic for its household: concurrent requests for the same
household never lose an update (implementations lock the household's row).
"""

from __future__ import annotations

import abc
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


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
    # Progress of an unfinished appreciation round, so it can resume that evening.
    round_state: dict | None = None
    checkin_state: dict | None = None

    @property
    def is_new(self) -> bool:
        return self.visits == 0

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
    }
)


class Store(abc.ABC):
    """Household state. Implementations: SQLite (embedded default) and PostgreSQL."""

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
        self, household_id: str, pool: Sequence[str], rng: random.Random | None = None
    ) -> tuple[str, bool]:
        """Pick a card id from ``pool`` the household has not heard, and mark it heard.

        When every card in ``pool`` has been heard, the pool is reshuffled: its
        seen marks are cleared and a card other than the last one dealt is picked.
        Returns ``(card_id, reshuffled)``. Atomic per household.
        """

    @abc.abstractmethod
    def record_hug(self, household_id: str, seconds: int, at: datetime) -> int:
        """Log one hug; returns how many hugs the household had in the 7 days up to ``at``."""

    @abc.abstractmethod
    def add_appreciation(self, household_id: str, appreciation: Appreciation) -> None:
        """Save one appreciation to the household's journal."""

    @abc.abstractmethod
    def appreciations_since(self, household_id: str, since: datetime) -> list[Appreciation]:
        """Saved appreciations said at or after ``since``, newest first."""

    @abc.abstractmethod
    def forget(self, household_id: str) -> None:
        """Delete everything stored for the household."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
