"""A store that keeps households in one process's memory: a measuring aid for `make bench`,
never the product. Served by several gunicorn workers, each has its own copy; the
benchmark uses it only to show what the webhook costs without persistence."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from skill.store.base import (
    Appreciation,
    Household,
    Reminder,
    Ritual,
    Store,
    check_reminder,
    check_ritual,
    pick_card,
    to_minute,
    unique_pool,
)


class MemoryStore(Store):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._households: dict[str, Household] = {}
        self._seen: dict[str, list[str]] = {}  # newest first
        self._rituals: dict[str, list[Ritual]] = {}
        self._journal: dict[str, list[Appreciation]] = {}
        self._reminders: dict[str, dict[str, Reminder]] = {}

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
        *, category: str | None = None, talked_at: datetime | None = None,
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
        at = to_minute(at)
        self.record_ritual(household_id, "hug", at, seconds)
        hugs = [r.at for r in self._rituals[household_id] if r.kind == "hug"]
        return sum(at - timedelta(days=7) < when <= at for when in hugs)

    def record_ritual(self, household_id: str, kind: str, at: datetime,
                      seconds: int | None = None) -> None:
        with self._lock:
            self._rituals.setdefault(household_id, []).append(
                Ritual(check_ritual(kind), to_minute(at), seconds))

    def rituals_since(self, household_id: str, since: datetime) -> list[Ritual]:
        return sorted(r for r in self._rituals.get(household_id, []) if r.at >= since)

    def set_reminder(self, household_id: str, ritual: str, local_time: str,
                     alexa_token: str | None = None) -> Reminder | None:
        check_reminder(ritual, local_time)
        with self._lock:
            kept = self._reminders.setdefault(household_id, {})
            old = kept.get(ritual)
            kept[ritual] = Reminder(ritual, local_time, alexa_token)
            return old

    def reminders(self, household_id: str) -> list[Reminder]:
        return sorted(self._reminders.get(household_id, {}).values(),
                      key=lambda r: (r.local_time, r.ritual))

    def clear_reminders(self, household_id: str) -> list[Reminder]:
        removed = self.reminders(household_id)
        self._reminders.pop(household_id, None)
        return removed

    def mark_nudged(self, household_id: str, ritual: str, on_date: date) -> bool:
        with self._lock:
            kept = self._reminders.get(household_id, {})
            if ritual not in kept or kept[ritual].last_nudged == on_date:
                return False
            kept[ritual] = dataclasses.replace(kept[ritual], last_nudged=on_date)
            return True

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
            for table in (self._households, self._seen, self._rituals, self._journal,
                          self._reminders):
                table.pop(household_id, None)

    def local_household_id(self) -> str:
        return "local.bench"
