"""The local speaker's own nudges: the household's reminders (ReminderIntent keeps them in
the store) spoken at their time in this machine's zone.

A nudge is spoken only while the speaker is idle (never into a session or over a ritual; the
speaker's loop asks between turns), at most once a day per ritual (the store's
``mark_nudged`` says yes once per day, so a restart or a second speaker on the same
household never repeats it), and not at all when the ritual was already done that day. A
nudge missed by more than ``GRACE`` (the speaker was off, a long conversation ran over) is
let go rather than said late.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

from skill import nudges
from skill.store import Reminder, Store
from skill.zones import here

GRACE = timedelta(hours=1)
LONGEST_WAIT_S = 300.0  # look at the schedule at least this often (another speaker may change it)
SHORTEST_WAIT_S = 0.5


class Nudges:
    """One household's schedule, read from the store each time (it is small)."""

    def __init__(self, store: Store, household_id: str, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 zone: tzinfo | None = None) -> None:
        self.store, self.household_id, self.clock = store, household_id, clock
        self.zone = zone or here()

    def _now(self) -> datetime:
        return self.clock().astimezone(self.zone)

    def wait_s(self) -> float | None:
        """How long an idle speaker may listen before a nudge is due; None: no reminders."""
        kept = self.store.reminders(self.household_id)
        if not kept:
            return None
        now = self._now()
        waits = [0.0 if self._due_on(r, now) else
                 (nudges.next_time(r.local_time, now) - now).total_seconds() for r in kept]
        return max(SHORTEST_WAIT_S, min(min(waits), LONGEST_WAIT_S))

    def due(self) -> list[str]:
        """The nudges to say now, as SSML-safe text; each is noted in the store first, so it
        is said once however many speakers share the household."""
        now = self._now()
        said = []
        for reminder in self.store.reminders(self.household_id):
            day = self._due_on(reminder, now)
            if day is None or not self.store.mark_nudged(self.household_id, reminder.ritual,
                                                         day.date()):
                continue
            if not self._done_since(reminder.ritual, day.replace(hour=0, minute=0)):
                said.append(nudges.spoken_nudge(reminder.ritual))
        return said

    def _due_on(self, reminder: Reminder, now: datetime) -> datetime | None:
        """The time this reminder was last due, if that was within GRACE and it has not been
        said that day."""
        hour, minute = int(reminder.local_time[:2]), int(reminder.local_time[3:])
        at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if at > now:
            at -= timedelta(days=1)
        if now - at >= GRACE or reminder.last_nudged == at.date():
            return None
        return at

    def _done_since(self, ritual: str, start: datetime) -> bool:
        done = nudges.DONE_AS[ritual]
        return any(r.kind in done for r in self.store.rituals_since(self.household_id, start))
