"""A store that keeps households in one process's memory: a measuring aid for `make bench`,
never the product. Served by several gunicorn workers, each has its own copy; the
benchmark uses it only to show what the webhook costs without persistence."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from skill.store.base import Appreciation, Household, Store, pick_card, unique_pool


class MemoryStore(Store):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._households: dict[str, Household] = {}
        self._seen: dict[str, list[str]] = {}  # newest first
        self._hugs: dict[str, list[datetime]] = {}
        self._journal: dict[str, list[Appreciation]] = {}

    def load(self, household_id: str) -> Household:
        return self._households.get(household_id) or Household(household_id=household_id)

    def update(self, household_id: str, **changes: object) -> Household:
        with self._lock:
            changed = dataclasses.replace(self.load(household_id), **changes)
            self._households[household_id] = changed
            return changed

    def record_visit(self, household_id: str) -> Household:
        with self._lock:
            before = self.load(household_id)
            self._households[household_id] = dataclasses.replace(before, visits=before.visits + 1)
            return before

    def deal_card(
        self, household_id: str, pool: Sequence[str], rng: random.Random | None = None,
        *, category: str | None = None,
    ) -> tuple[str, bool]:
        cards = unique_pool(pool)
        with self._lock:
            heard = self._seen.setdefault(household_id, [])
            seen = [card for card in heard if card in set(cards)]
            card, reshuffled = pick_card(cards, seen, rng)
            if reshuffled:
                heard[:] = [c for c in heard if c not in seen]
            heard.insert(0, card)
        if category is not None:
            self.update(household_id, last_category=category, last_card_id=card)
        return card, reshuffled

    def record_hug(self, household_id: str, seconds: int, at: datetime) -> int:
        with self._lock:
            hugs = self._hugs.setdefault(household_id, [])
            hugs.append(at)
            return sum(at - timedelta(days=7) < when <= at for when in hugs)

    def add_appreciation(self, household_id: str, appreciation: Appreciation) -> bool:
        if not self.load(household_id).journal_opt_in:
            return False
        with self._lock:
            self._journal.setdefault(household_id, []).append(appreciation)
        return True

    def appreciations_since(self, household_id: str, since: datetime) -> list[Appreciation]:
        saved = self._journal.get(household_id, [])
        return sorted((a for a in saved if a.said_at >= since), key=lambda a: a.said_at,
                      reverse=True)

    def forget(self, household_id: str) -> None:
        with self._lock:
            for table in (self._households, self._seen, self._hugs, self._journal):
                table.pop(household_id, None)

    def local_household_id(self) -> str:
        return "local.bench"
