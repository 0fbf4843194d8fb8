"""The load generator behind ``make loadtest``: simulated households talking to webhook
instances the way Alexa relays them, and the bookkeeping to check the database afterwards.

Every household is a couple with an Alexa account; some have a second device dealing cards
and timing hugs at the same time. Each device plays whole sessions (dinner cards with next,
a timed hug, the appreciation round with names, journal opt-in and both shares, the
journal), signs every request with the test leaf key (verification is on in the servers),
carries session attributes between turns like Alexa, and notes what the skill acknowledged:
a hug is acknowledged by its closing words, an appreciation by being mirrored back, a card
by being read out. A client-side balancer spreads requests over the live instances.
"""

from __future__ import annotations

import http.client
import itertools
import json
import random
import select
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from skill.cards import default_deck
from tests.support.envelopes import envelope, slot
from tests.support.live_server import LivePKI, LiveServer, speech

CLIENT_TIMEOUT_S = 10.0  # longer than Alexa's 8 s: a hang shows up as a slow answer
NAMES = ["Sam", "Alex", "Robin", "Jo", "Kim", "Lee", "Max", "Ana", "Noor", "Ravi", "Mia", "Eli"]
CATEGORIES = [*default_deck().CATEGORIES, None]


@dataclass
class Sample:
    """One request as the generator saw it."""

    t0: float
    t1: float
    instance: str
    label: str
    status: int  # 0: no HTTP answer (connection reset, timeout)
    # ok | try_again: the skill's spoken "can't reach my memory, please try again" |
    # broken: its "something went wrong on my side" | error: no 200 answer at all
    outcome: str
    detail: str = ""  # for errors: the HTTP status or the client's exception

    @property
    def ms(self) -> float:
        return (self.t1 - self.t0) * 1000


@dataclass
class Home:
    """What one household was told, to be found in the database afterwards."""

    user: str
    names: tuple[str, str]
    hugs_acked: int = 0
    hugs_unacked: int = 0  # sent, but the answer was not the hug's closing: maybe stored
    appreciations_acked: set[str] = field(default_factory=set)
    appreciations_unacked: set[str] = field(default_factory=set)
    # (when, pool, card, reshuffled) for every card the household heard
    deals: list[tuple[float, str, str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Device:
    """One Echo in a home: plays sessions one request at a time."""

    def __init__(self, home: Home, second: bool, rng: random.Random) -> None:
        self.home, self.rng = home, rng
        kinds = ["cards", "hug"] if second else ["cards", "hug", "round", "journal"]
        rng.shuffle(kinds)
        self.kinds = itertools.cycle(kinds)
        self.steps: Iterator[tuple[str, dict]] | None = None
        self.session_id: str | None = None
        self.attributes: dict = {}
        self.ended = True
        self.last_answer: dict = {}

    # -- requests ------------------------------------------------------------------------

    def _env(self, request_type: str, intent: str | None = None, slots: dict | None = None) -> dict:
        new = self.ended
        if new:
            self.session_id, self.attributes = f"amzn1.echo-api.session.{uuid.uuid4()}", {}
        self.ended = False
        return envelope(request_type, intent, slots, user=self.home.user,
                        attributes=self.attributes, new=new, session_id=self.session_id)

    def _cards(self) -> Iterator[tuple[str, dict]]:
        yield "launch", self._env("LaunchRequest")
        category = self.rng.choice(CATEGORIES)
        slots = {"category": slot("category", category, category)} if category else {}
        yield "question", self._env("IntentRequest", "QuestionIntent", slots)
        for _ in range(self.rng.randint(2, 4)):
            yield "next", self._env("IntentRequest", "AMAZON.NextIntent")
        yield "stop", self._env("IntentRequest", "AMAZON.StopIntent")

    def _round(self) -> Iterator[tuple[str, dict]]:
        yield "round", self._env("IntentRequest", "AppreciationRoundIntent")
        while not self.ended:
            step = self.attributes.get("round_step")
            if step == "names":
                first, second = self.home.names
                yield "names", self._env("IntentRequest", "SetNamesIntent", {
                    "firstName": slot("firstName", first.lower()),
                    "secondName": slot("secondName", second.lower())})
            elif step == "optin":
                yield "optin", self._env("IntentRequest", "AMAZON.YesIntent")
            elif step in ("first", "second"):
                text = f"you made me laugh today, note {uuid.uuid4().hex[:12]}"
                yield f"share:{text}", self._env("IntentRequest", "ShareAppreciationIntent",
                                                 {"appreciation": slot("appreciation", text)})
            else:
                return

    def _session(self, kind: str) -> Iterator[tuple[str, dict]]:
        if kind == "cards":
            yield from self._cards()
        elif kind == "hug":
            seconds = self.rng.choice([10, 20, 30, 45, 60])
            yield "hug", self._env("IntentRequest", "HugIntent",
                                   {"duration": slot("duration", f"PT{seconds}S")})
        elif kind == "round":
            yield from self._round()
        else:
            yield "journal", self._env("IntentRequest", "JournalIntent")

    def next_request(self) -> tuple[str, dict]:
        while True:
            if self.steps is None:
                self.steps = self._session(next(self.kinds))
            try:
                return next(self.steps)
            except StopIteration:
                self.steps, self.ended = None, True

    # -- answers -------------------------------------------------------------------------

    def take(self, label: str, status: int, payload: bytes, at: float) -> str:
        """Note the answer; returns the outcome (see Sample.outcome)."""
        said = speech(payload) if status == 200 else ""
        if status != 200:
            outcome = "error"
        elif "reach my memory" in said:
            outcome = "try_again"
        elif "something went wrong on my side" in said:
            outcome = "broken"
        else:
            outcome = "ok"
        answer = json.loads(payload) if status == 200 else {}
        self._account(label, outcome, said, answer, at)
        ends = (answer.get("response") or {}).get("shouldEndSession", True)
        if outcome != "ok" or ends is None or ends:
            self.ended, self.steps = True, None  # the couple starts over next time
        else:
            self.attributes = answer.get("sessionAttributes") or {}
        return outcome

    def _account(self, label: str, outcome: str, said: str, answer: dict, at: float) -> None:
        home = self.home
        with home.lock:
            if label == "hug":
                if outcome == "ok" and "Thank you for that hug" in said:
                    home.hugs_acked += 1
                else:
                    home.hugs_unacked += 1
            elif label.startswith("share:"):
                text = label.split(":", 1)[1]
                if outcome == "ok" and f"note {text.rsplit(' ', 1)[-1]}" in said:  # mirrored
                    home.appreciations_acked.add(text)
                else:
                    home.appreciations_unacked.add(text)
            elif label in ("question", "next") and outcome == "ok":
                attributes = answer.get("sessionAttributes") or {}
                if attributes.get("card_id"):
                    home.deals.append((at, attributes.get("category") or "any",
                                       attributes["card_id"], "shuffled it" in said))


class Balancer:
    """Round-robin over the instances that are up; a refused connection takes one out until
    its /healthz answers again (what a load balancer in front of the instances would do)."""

    def __init__(self, servers: list[LiveServer]) -> None:
        self.servers = servers
        self.up = {server.name: True for server in servers}
        self.lock = threading.Lock()
        self.turn = itertools.count()
        self.events: list[tuple[float, str, str]] = []  # (t, instance, "down" | "up")
        self.stop = threading.Event()
        self.watcher = threading.Thread(target=self._watch, daemon=True)

    def pick(self, avoid: set[str]) -> LiveServer | None:
        with self.lock:
            live = [s for s in self.servers if self.up[s.name] and s.name not in avoid]
            return live[next(self.turn) % len(live)] if live else None

    def down(self, server: LiveServer) -> None:
        with self.lock:
            if self.up[server.name]:
                self.up[server.name] = False
                self.events.append((time.monotonic(), server.name, "down"))

    def _watch(self) -> None:
        while not self.stop.wait(0.2):
            for server in self.servers:
                if not self.up[server.name] and server.healthy(timeout_s=0.5):
                    with self.lock:
                        self.up[server.name] = True
                        self.events.append((time.monotonic(), server.name, "up"))


class NotDelivered(Exception):
    """The instance refused the connection: the request never reached it."""


class Client:
    """One connection per instance, kept alive like Alexa's."""

    def __init__(self) -> None:
        self.conns: dict[int, http.client.HTTPConnection] = {}

    def post(self, server: LiveServer, body: bytes, headers: dict) -> tuple[int, bytes]:
        conn = self.conns.get(server.port)
        if conn is not None and conn.sock is not None and select.select([conn.sock], [], [], 0)[0]:
            conn.close()  # the server closed it (keep-alive expiry or a dead instance)
            conn = None
        if conn is None or conn.sock is None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=CLIENT_TIMEOUT_S)
            try:
                conn.connect()
            except ConnectionRefusedError as error:
                raise NotDelivered from error
            self.conns[server.port] = conn
        try:
            conn.request("POST", "/alexa", body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            self.conns.pop(server.port, None)
            return 0, type(error).__name__.encode()


class Generator:
    """CLIENTS threads, each taking the next waiting device and sending its next request."""

    def __init__(self, homes: list[Home], second_devices: int, balancer: Balancer,
                 pki: LivePKI, clients: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        devices = [Device(h, False, random.Random(rng.random())) for h in homes]
        devices += [Device(h, True, random.Random(rng.random())) for h in homes[:second_devices]]
        rng.shuffle(devices)
        self.ready: list[Device] = devices
        self.ready_lock = threading.Condition()
        self.balancer, self.pki = balancer, pki
        self.samples: list[Sample] = []
        self.failovers: list[float] = []  # when a refused connection went to another instance
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def start(self) -> None:
        self.balancer.watcher.start()
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=CLIENT_TIMEOUT_S + 5)
        self.balancer.stop.set()

    def _take_device(self) -> Device:
        with self.ready_lock:
            while not self.ready:
                self.ready_lock.wait()
            return self.ready.pop(0)

    def _return_device(self, device: Device) -> None:
        with self.ready_lock:
            self.ready.append(device)
            self.ready_lock.notify()

    def _run(self) -> None:
        client = Client()
        while not self.stop.is_set():
            device = self._take_device()
            try:
                self._one(client, device)
            finally:
                self._return_device(device)

    def _one(self, client: Client, device: Device) -> None:
        label, env = device.next_request()
        body = json.dumps(env).encode()
        headers = self.pki.headers(body)
        tried: set[str] = set()
        while True:
            server = self.balancer.pick(tried)
            if server is None:  # nothing up: wait for a rejoin, like a queued request
                time.sleep(0.05)
                tried.clear()
                continue
            t0 = time.monotonic()
            try:
                status, payload = client.post(server, body, headers)
                break
            except NotDelivered:
                self.balancer.down(server)
                tried.add(server.name)
                self.failovers.append(time.monotonic())
        t1 = time.monotonic()
        outcome = device.take(label, status, payload, t1)
        detail = "" if outcome != "error" else (payload.decode(errors="replace")[:80]
                                                 if status == 0 else f"HTTP {status}")
        self.samples.append(Sample(t0, t1, server.name, label.split(":")[0], status, outcome,
                                   detail))


def make_homes(count: int, prefix: str) -> list[Home]:
    rng = random.Random(count)
    return [Home(f"amzn1.ask.account.{prefix}{i:05d}", tuple(rng.sample(NAMES, 2)))
            for i in range(count)]


# -- checking the database afterwards --------------------------------------------------


@dataclass
class Stored:
    """Rows per household, as read back from the database."""

    hugs: dict[str, int]
    appreciations: dict[str, set[str]]
    seen_cards: dict[str, set[str]]


@dataclass
class Audit:
    homes: int = 0
    hugs_acked: int = 0
    hugs_stored: int = 0
    hugs_lost: int = 0
    hugs_extra_unexplained: int = 0
    appreciations_acked: int = 0
    appreciations_stored: int = 0
    appreciations_lost: int = 0
    appreciations_extra_unexplained: int = 0
    cards_acked: int = 0
    cards_repeated: int = 0
    reshuffles: int = 0
    seen_marks_missing: int = 0

    @property
    def clean(self) -> bool:
        return not (self.hugs_lost or self.hugs_extra_unexplained or self.appreciations_lost
                    or self.appreciations_extra_unexplained or self.cards_repeated
                    or self.seen_marks_missing)


def audit(homes: list[Home], stored: Stored) -> Audit:
    """No lost update (every acknowledged hug and appreciation is stored; anything extra was
    sent but not acknowledged) and no card heard twice while unheard ones remained."""
    deck = default_deck()
    result = Audit(homes=len(homes))
    for home in homes:
        hugs = stored.hugs.get(home.user, 0)
        result.hugs_acked += home.hugs_acked
        result.hugs_stored += hugs
        result.hugs_lost += max(0, home.hugs_acked - hugs)
        result.hugs_extra_unexplained += max(0, hugs - home.hugs_acked - home.hugs_unacked)
        texts = stored.appreciations.get(home.user, set())
        result.appreciations_acked += len(home.appreciations_acked)
        result.appreciations_stored += len(texts)
        result.appreciations_lost += len(home.appreciations_acked - texts)
        result.appreciations_extra_unexplained += len(
            texts - home.appreciations_acked - home.appreciations_unacked)
        _audit_cards(home, stored.seen_cards.get(home.user, set()), deck.ids, result)
    return result


def _audit_cards(home: Home, seen_in_db: set[str], pool_of: Callable[[str | None], list[str]],
                 result: Audit) -> None:
    heard: set[str] = set()
    for _, pool, card, reshuffled in sorted(home.deals):
        result.cards_acked += 1
        if reshuffled:
            result.reshuffles += 1
            heard -= set(pool_of(None if pool == "any" else pool))
        elif card in heard:
            result.cards_repeated += 1
        heard.add(card)
    result.seen_marks_missing += len(heard - seen_in_db)


def stored_in_postgres(url: str) -> Stored:
    import psycopg

    with psycopg.connect(url) as conn:
        return _stored(conn.execute)


def stored_in_sqlite(path: str) -> Stored:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return _stored(conn.execute)
    finally:
        conn.close()


def _stored(execute: Callable) -> Stored:
    hugs = dict(execute("SELECT household_id, COUNT(*) FROM rituals WHERE kind = 'hug' "
                        "GROUP BY household_id"))
    appreciations: dict[str, set[str]] = {}
    for household, text in execute("SELECT household_id, text FROM appreciations"):
        appreciations.setdefault(household, set()).add(text)
    seen: dict[str, set[str]] = {}
    for household, card in execute("SELECT household_id, card_id FROM seen_cards"):
        seen.setdefault(household, set()).add(card)
    return Stored(hugs, appreciations, seen)
