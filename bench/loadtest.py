"""``make loadtest``: load and fault tests; results go to bench/RESULTS.md (loadtest section).

1. Two webhook instances (gunicorn, tests/live_server.py: the real app, verification ON
   with a test CA) on their own loopback ports share one PostgreSQL that this script starts
   (tests/pg_server.py). bench/loadgen.py drives them with hundreds of households. While it
   runs: kill -9 one instance and restart it; restart PostgreSQL. Afterwards the database
   must hold every acknowledged hug and appreciation, and no household may have heard a
   card twice while unheard ones remained.
2. The single-box setup: one instance on SQLite, on a small tmpfs that fills up mid-load.
3. A long hypothesis pass of hostile requests against a live instance (tests/fuzzing.py).

About four minutes. The load generator runs on the same 2 cores as the servers and the
database, so every number here is pessimistic.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.loadgen import (
    Audit,
    Balancer,
    Generator,
    Sample,
    audit,
    make_homes,
    stored_in_postgres,
    stored_in_sqlite,
)
from bench.results import write_section
from tests.support.envelopes import SKILL_ID
from tests.support.fuzzing import FuzzReport, database_digest, fuzz_pass
from tests.support.live_server import LivePKI, LiveServer
from tests.support.pg_server import PostgresServer, find_pg_bin, running_server

COMMAND = "make loadtest (.venv/bin/python -m bench.loadtest)"
HOUSEHOLDS = 300
SECOND_DEVICES = 60  # households with a second device dealing cards and timing hugs too
CLIENTS = 24  # requests in flight at once
WORKERS, THREADS = 2, 4  # per instance
WARMUP_S, STEADY_S = 5.0, 30.0
KILL_DOWN_S, AFTER_REJOIN_S = 8.0, 10.0
PG_DOWN_S, AFTER_PG_S = 4.0, 15.0
FAIL_FAST_S = 2.0  # a "please try again" must come back sooner than this
DISK_MB = 8
DISK_LEFT_KB = 1536  # free space left on the small disk when the load starts
DISK_FULL_HOLD_S, DISK_AFTER_FREE_S = 8.0, 8.0
FUZZ_EXAMPLES = 6000


# -- numbers from samples --------------------------------------------------------------


def window(samples: list[Sample], start: float, end: float) -> list[Sample]:
    """Requests answered (or failed) between ``start`` and ``end``: a request in flight
    when a fault strikes counts toward the fault."""
    return [s for s in samples if start <= s.t1 < end]


def _quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[q - 1]


@dataclass
class Stats:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    outcomes: Counter

    @classmethod
    def of(cls, samples: list[Sample], seconds: float) -> Stats:
        ms = [s.ms for s in samples]
        return cls(len(samples), seconds, _quantile(ms, 50), _quantile(ms, 99),
                   max(ms, default=0.0), Counter(s.outcome for s in samples))

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def rate(self, outcome: str) -> float:
        return 100.0 * self.outcomes[outcome] / self.requests if self.requests else 0.0

    def row(self, label: str) -> str:
        return (f"| {label} | {self.requests} | {self.rps:.0f} | {self.p50_ms:.0f} | "
                f"{self.p99_ms:.0f} | {self.max_ms:.0f} | {self.rate('error'):.2f}% | "
                f"{self.rate('try_again'):.2f}% | {self.outcomes['broken']} |")


TABLE_HEAD = ("| Window | Requests | Requests/s | p50 ms | p99 ms | max ms | Errors (no 200) | "
              "\"Please try again\" | \"Went wrong\" |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|")


def workers_of(server: LiveServer) -> set[int]:
    """The gunicorn worker pids of an instance (children of its master)."""
    if server.proc is None:
        return set()
    path = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    try:
        return {int(pid) for pid in path.read_text().split()}
    except OSError:
        return set()


def first(samples: list[Sample], test: Callable[[Sample], bool]) -> Sample | None:
    return next((s for s in sorted(samples, key=lambda s: s.t1) if test(s)), None)


# -- part 1: two instances on PostgreSQL ----------------------------------------------


@dataclass
class PostgresRun:
    marks: dict[str, float] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    failovers: list[float] = field(default_factory=list)
    events: list[tuple[float, str, str]] = field(default_factory=list)
    audit: Audit | None = None
    restart_s: float = 0.0
    webhook_restarts: list[str] = field(default_factory=list)
    pg_version: str = ""


def run_postgres(tmp: Path, pki: LivePKI) -> PostgresRun:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL binaries not found; `make setup` installs them")
    run = PostgresRun()
    # fsync off (the OS does not crash here) but synchronous commits: a server restart
    # must not lose anything a client was told had committed.
    with running_server(bin_dir, synchronous_commit="on") as pg:
        url = pg.create_database("closer")
        run.pg_version = bin_dir.parent.name
        a, b = (LiveServer(name, pki, {"CLOSER_DATABASE_URL": url}, tmp / f"{name}.log",
                           workers=WORKERS, threads=THREADS, skill_ids=SKILL_ID)
                for name in ("A", "B"))
        a.start()
        b.start()
        homes = make_homes(HOUSEHOLDS, "LOAD")
        balancer = Balancer([a, b])
        gen = Generator(homes, SECOND_DEVICES, balancer, pki, CLIENTS)
        try:
            _postgres_timeline(run, gen, a, b, pg)
        finally:
            gen.finish()
            run.samples, run.failovers, run.events = gen.samples, gen.failovers, balancer.events
            a.stop()
            b.stop()
        run.audit = audit(homes, stored_in_postgres(url))
    return run


def _postgres_timeline(run: PostgresRun, gen: Generator, a: LiveServer, b: LiveServer,
                       pg: PostgresServer) -> None:
    mark = run.marks
    gen.start()
    mark["start"] = time.monotonic()
    time.sleep(WARMUP_S)
    mark["steady"] = time.monotonic()
    time.sleep(STEADY_S)
    _kill_and_restart(run, a)
    before = {s.name: (s.proc.pid if s.proc else 0, workers_of(s)) for s in (a, b)}
    _restart_postgres(run, pg)
    for server in (a, b):
        pid, workers = before[server.name]
        if server.proc is None or server.proc.pid != pid or server.proc.poll() is not None:
            run.webhook_restarts.append(f"{server.name}: master gone")
        elif workers_of(server) != workers:
            run.webhook_restarts.append(f"{server.name}: workers replaced")


def _kill_and_restart(run: PostgresRun, a: LiveServer) -> None:
    print("loadtest: kill -9 instance A", file=sys.stderr)
    mark = run.marks
    mark["kill"] = time.monotonic()
    a.kill()
    mark["killed"] = time.monotonic()  # A's port refuses connections
    time.sleep(KILL_DOWN_S)
    mark["restart"] = time.monotonic()
    run.restart_s = a.start()
    mark["restarted"] = time.monotonic()
    time.sleep(AFTER_REJOIN_S)


def _restart_postgres(run: PostgresRun, pg: PostgresServer) -> None:
    print("loadtest: restart PostgreSQL", file=sys.stderr)
    mark = run.marks
    mark["pg_stop"] = time.monotonic()
    pg.stop("fast")
    mark["pg_stopped"] = time.monotonic()
    time.sleep(PG_DOWN_S)
    pg.start()
    mark["pg_started"] = time.monotonic()
    time.sleep(AFTER_PG_S)
    mark["end"] = time.monotonic()


def render_postgres(run: PostgresRun) -> list[str]:
    m, samples = run.marks, run.samples
    steady = Stats.of(window(samples, m["steady"], m["kill"]), m["kill"] - m["steady"])
    whole = Stats.of(window(samples, m["steady"], m["end"]), m["end"] - m["steady"])
    kill = Stats.of(window(samples, m["kill"], m["pg_stop"]), m["pg_stop"] - m["kill"])
    pg = Stats.of(window(samples, m["pg_stop"], m["end"]), m["end"] - m["pg_stop"])
    assert run.audit is not None
    au = run.audit
    lines = [
        "### Two instances on one PostgreSQL",
        "",
        TABLE_HEAD,
        steady.row(f"Steady load ({STEADY_S:.0f} s, both instances)"),
        kill.row("From kill -9 of A to the PostgreSQL restart"),
        pg.row("From the PostgreSQL restart to the end"),
        whole.row("Whole run after warm-up"),
        "",
        "Errors (no HTTP 200) in the steady window: "
        f"{_kinds(_errors(samples, m['steady'], m['kill'])) or 'none'}.",
        "",
        "Afterwards, in the database (every household checked):",
        "",
        "| Check | Result |",
        "|---|---|",
        f"| Hugs acknowledged / stored | {au.hugs_acked} / {au.hugs_stored} "
        f"(lost: **{au.hugs_lost}**; stored though the answer said otherwise or never came: "
        f"{au.hugs_stored - au.hugs_acked + au.hugs_lost}; stored but never sent: "
        f"{au.hugs_extra_unexplained}) |",
        f"| Appreciations acknowledged / stored | {au.appreciations_acked} / "
        f"{au.appreciations_stored} (lost: **{au.appreciations_lost}**; stored though the "
        f"answer said otherwise or never came: "
        f"{au.appreciations_stored - au.appreciations_acked + au.appreciations_lost}; stored "
        f"but never sent: {au.appreciations_extra_unexplained}) |",
        f"| Cards heard | {au.cards_acked} by {au.homes} households; repeated while unheard "
        f"ones remained: **{au.cards_repeated}**; reshuffles: {au.reshuffles}; heard but no "
        f"seen mark: {au.seen_marks_missing} |",
        f"| Verdict | **{'PASS' if au.clean else 'FAIL'}** |",
        "",
    ]
    return lines + _render_kill(run) + _render_pg_restart(run)


def _render_kill(run: PostgresRun) -> list[str]:
    m, samples = run.marks, run.samples
    kill = m["kill"]
    # Sent before A's port went dead, and not answered before the kill began.
    in_flight = [s for s in samples if s.instance == "A" and s.t0 < m["killed"] and s.t1 >= kill]
    in_flight_errors = [s for s in in_flight if s.outcome == "error"]
    errors = [s for s in window(samples, kill, m["pg_stop"]) if s.outcome == "error"]
    other_errors = [s for s in errors if s not in in_flight_errors]
    down_at = next((t for t, name, what in run.events if name == "A" and what == "down"
                    and t >= kill), None)
    up_at = next((t for t, name, what in run.events if name == "A" and what == "up"
                  and t >= kill), None)
    a_back = first(samples, lambda s: s.instance == "A" and s.t0 >= m["restart"]
                   and s.outcome == "ok")
    b_alone = window(samples, kill, up_at or m["pg_stop"])
    b_ok = sum(1 for s in b_alone if s.instance == "B" and s.outcome == "ok")
    after = window(samples, m["restarted"], m["pg_stop"])
    share_a = 100.0 * sum(1 for s in after if s.instance == "A") / max(1, len(after))
    failovers = sum(1 for t in run.failovers if kill <= t < m["pg_stop"])
    return [
        "### Fault: kill -9 of instance A mid-load",
        "",
        f"- SIGKILL to A's gunicorn master and workers at t={kill - m['start']:.0f} s (its "
        f"port refused connections {1000 * (m['killed'] - kill):.0f} ms later); A was started "
        f"again "
        f"{KILL_DOWN_S:.0f} s later (boot to healthy: {run.restart_s:.1f} s).",
        f"- Requests in flight on A at the kill (sent before its port went dead, not yet "
        f"answered): {len(in_flight)}; of these, no HTTP answer: "
        f"**{len(in_flight_errors)}** ({_kinds(in_flight_errors)}). Errors anywhere else in "
        f"this window: **{len(other_errors)}**{_kinds(other_errors, ' (')}.",
        f"- The balancer saw A refuse connections "
        f"{_after(down_at, kill)} after the kill and sent those requests to B instead "
        f"({failovers} redirected before they were sent, none lost); B answered {b_ok} "
        f"requests alone while A was down.",
        f"- A rejoined: healthy {_after(up_at, m['restart'])} after the restart began; its "
        f"first acknowledged answer came {_after(a_back.t1 if a_back else None, m['restart'])} "
        f"after; A then served {share_a:.0f}% of the requests until the next fault.",
        "",
    ]


def _errors(samples: list[Sample], start: float, end: float) -> list[Sample]:
    return [s for s in window(samples, start, end) if s.outcome == "error"]


def _kinds(samples: list[Sample], prefix: str = "") -> str:
    if not samples:
        return ""
    kinds = Counter(s.detail for s in samples)
    text = ", ".join(f"{detail} x{n}" for detail, n in kinds.most_common())
    return f"{prefix}{text})" if prefix else text


def _after(moment: float | None, since: float) -> str:
    return "never" if moment is None else f"{moment - since:.1f} s"


def _render_pg_restart(run: PostgresRun) -> list[str]:
    m, samples = run.marks, run.samples
    outage = window(samples, m["pg_stop"], m["pg_started"])
    try_again = [s for s in window(samples, m["pg_stop"], m["end"]) if s.outcome == "try_again"]
    slow = [s for s in try_again if s.ms >= FAIL_FAST_S * 1000]
    errors = [s for s in window(samples, m["pg_stop"], m["end"]) if s.outcome == "error"]
    broken = [s for s in window(samples, m["pg_stop"], m["end"]) if s.outcome == "broken"]
    last_try = max((s.t1 for s in try_again), default=None)
    recovered = {name: first(samples, lambda s, n=name: s.instance == n
                             and s.t0 >= m["pg_started"] and s.outcome == "ok"
                             and s.label not in ("stop", "launch"))
                 for name in ("A", "B")}
    try_ms = [s.ms for s in try_again]
    outcomes = Counter(s.outcome for s in outage)
    return [
        "### Fault: PostgreSQL restart mid-load",
        "",
        f"- `pg_ctl stop -m fast` at t={m['pg_stop'] - m['start']:.0f} s (took "
        f"{m['pg_stopped'] - m['pg_stop']:.1f} s), down {PG_DOWN_S:.0f} s, then `pg_ctl start` "
        f"(back {m['pg_started'] - m['pg_stop']:.1f} s after the stop began).",
        f"- Answers while it was down: {dict(outcomes)}. Every store-backed request got HTTP "
        f"200 with the spoken \"Sorry, I can't reach my memory right now. Please try again in "
        f"a moment.\" ({len(try_again)} such answers in all); those took p50 "
        f"{_quantile(try_ms, 50):.0f} ms, p99 {_quantile(try_ms, 99):.0f} ms, max "
        f"{max(try_ms, default=0):.0f} ms; {len(slow)} took {FAIL_FAST_S:.0f} s or more. No "
        f"HTTP answer at all: **{len(errors)}**; \"something went wrong\": {len(broken)}.",
        "- Recovery without touching the webhooks: first acknowledged store-backed answer after "
        "PostgreSQL was back: "
        + ", ".join(f"{n} {_after(s.t1 if s else None, m['pg_started'])}"
                    for n, s in recovered.items())
        + f"; last \"please try again\" {_after(last_try, m['pg_started'])} after. "
        + ("Webhook processes: same masters and workers before and after."
           if not run.webhook_restarts else f"Webhook restarts: {run.webhook_restarts}."),
        "",
    ]


# -- part 2: the single box on SQLite, with a full disk --------------------------------


@dataclass
class DiskRun:
    skipped: str = ""
    size_mb: int = DISK_MB
    marks: dict[str, float] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    audit: Audit | None = None
    integrity_full: str = ""
    integrity_after: str = ""
    log_full_lines: int = 0
    log_example: str = ""


def _mount_small_disk(path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m,mode=0755",
                           "tmpfs", str(path)], capture_output=True, text=True)
    return "" if done.returncode == 0 else (done.stderr.strip() or "mount failed")


def _fill(path: Path, leave_kb: int) -> Path:
    filler = path / "filler"
    spare = shutil.disk_usage(path).free - leave_kb * 1024
    with filler.open("wb") as out:
        while spare > 0:
            chunk = min(spare, 1 << 20)
            out.write(b"\0" * chunk)
            spare -= chunk
    return filler


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return ", ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def run_disk_full(tmp: Path, pki: LivePKI) -> DiskRun:
    run = DiskRun()
    disk = tmp / "small-disk"
    problem = _mount_small_disk(disk)
    if problem:
        run.skipped = f"could not mount a tmpfs ({problem})"
        return run
    try:
        _disk_full(run, disk, tmp, pki)
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
    return run


def _disk_full(run: DiskRun, disk: Path, tmp: Path, pki: LivePKI) -> None:
    db = disk / "closer.sqlite3"
    log = tmp / "S.log"
    server = LiveServer("S", pki, {"CLOSER_DB": str(db)}, log, workers=WORKERS,
                        threads=THREADS, skill_ids=SKILL_ID)
    server.start()
    homes = make_homes(60, "DISK")
    gen = Generator(homes, 10, Balancer([server]), pki, clients=8)
    m = run.marks
    try:
        filler = _fill(disk, DISK_LEFT_KB)
        gen.start()
        m["start"] = time.monotonic()
        deadline = m["start"] + 60
        while time.monotonic() < deadline and not any(
                s.outcome == "try_again" for s in gen.samples):
            time.sleep(0.2)
        m["full"] = time.monotonic()
        time.sleep(DISK_FULL_HOLD_S)
        run.integrity_full = _integrity(db)
        filler.unlink()
        m["freed"] = time.monotonic()
        time.sleep(DISK_AFTER_FREE_S)
        m["end"] = time.monotonic()
    finally:
        gen.finish()
        server.stop()
    run.samples = gen.samples
    run.integrity_after = _integrity(db)
    run.audit = audit(homes, stored_in_sqlite(str(db)))
    full_lines = [line for line in log.read_text(errors="replace").splitlines()
                  if "store unavailable" in line and "SQLITE_FULL" in line]
    run.log_full_lines = len(full_lines)
    run.log_example = full_lines[0] if full_lines else ""


def render_disk(run: DiskRun) -> list[str]:
    head = ["### Fault: the SQLite disk fills up (single box)", ""]
    if run.skipped:
        return [*head, f"Skipped: {run.skipped}.", ""]
    m, samples = run.marks, run.samples
    before = Stats.of(window(samples, m["start"], m["full"]), m["full"] - m["start"])
    full = Stats.of(window(samples, m["full"], m["freed"]), m["freed"] - m["full"])
    after = Stats.of(window(samples, m["freed"], m["end"]), m["end"] - m["freed"])
    writes_after = [s for s in window(samples, m["freed"], m["end"])
                    if s.label in ("hug", "share") and s.t0 >= m["freed"] + 1]
    au = run.audit
    assert au is not None
    return [
        *head,
        f"One instance (gunicorn {WORKERS} workers x {THREADS} threads) with its SQLite file "
        f"on a {run.size_mb} MB tmpfs mounted for the test, {DISK_LEFT_KB} KB left free when the "
        f"load (60 households, 8 clients) started. When the skill first answered \"please try "
        f"again\" the disk was full; it stayed full {DISK_FULL_HOLD_S:.0f} s, then the filler "
        "file was deleted with the server still running.",
        "",
        TABLE_HEAD,
        before.row("Filling up"),
        full.row("Disk full"),
        after.row("After space was freed"),
        "",
        f"- While full, writes were answered with HTTP 200 and the spoken \"Please try again "
        f"in a moment\"; no request went unanswered ({full.outcomes['error']} errors). The log "
        f"said why, {run.log_full_lines} times, e.g. `{run.log_example}`.",
        f"- After space was freed, hugs and shares succeeded again without a restart: "
        f"{sum(1 for s in writes_after if s.outcome == 'ok')} of {len(writes_after)} from 1 s "
        "after the delete on.",
        f"- `PRAGMA integrity_check`: while full `{run.integrity_full}`; after the run "
        f"`{run.integrity_after}`.",
        f"- Acknowledged writes all present: hugs {au.hugs_acked} acknowledged / "
        f"{au.hugs_stored} stored (lost **{au.hugs_lost}**), appreciations "
        f"{au.appreciations_acked} / {au.appreciations_stored} (lost "
        f"**{au.appreciations_lost}**); cards repeated: {au.cards_repeated}. Verdict: "
        f"**{'PASS' if au.clean and run.integrity_after == 'ok' else 'FAIL'}**.",
        "",
    ]


# -- part 3: bad input at volume -------------------------------------------------------


def run_fuzz(tmp: Path, pki: LivePKI) -> FuzzReport:
    db = tmp / "fuzz.sqlite3"
    server = LiveServer("F", pki, {"CLOSER_DB": str(db)}, tmp / "F.log", workers=WORKERS,
                        threads=THREADS, skill_ids=SKILL_ID)
    server.start()

    try:
        return fuzz_pass(server, pki, lambda: database_digest(db), max_examples=FUZZ_EXAMPLES,
                         derandomize=False, raise_on_failure=False)
    finally:
        server.stop()


def render_fuzz(report: FuzzReport) -> list[str]:
    return [
        "### Bad input at volume",
        "",
        f"Hypothesis against a live instance (SQLite, verification on, fresh random seed): "
        f"mutated real envelopes (wrong types, missing fields, huge and odd unicode strings, "
        f"lone surrogates), raw garbage, deep nesting, non-objects, oversized bodies, forged "
        f"and mangled signatures and certificate URLs, wrong or missing application ids, stale "
        f"and future timestamps. {report.line()}.",
        "",
        f"- No 5xx, /healthz answered after every request, nothing but a correctly signed, "
        f"fresh request for our skill was accepted, every rejection left every row of the "
        f"database unchanged: **{'PASS' if report.failure is None else 'FAIL'}**"
        + (f" (`{report.failure[:300]}`)" if report.failure else "") + ".",
        "",
    ]


# -- the report ------------------------------------------------------------------------


def render(pg: PostgresRun | None, disk: DiskRun | None, fuzz: FuzzReport | None,
           wall_s: float) -> str:
    lines = [
        "## Load and fault tests",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}; command: `{COMMAND}`; wall "
        f"time {wall_s / 60:.1f} min.",
        f"- Machine: nproc={os.cpu_count()}, Python {platform.python_version()}, "
        f"{platform.platform()}. The 2 cores are shared with other work, and the load "
        "generator (Python threads, signing every request) runs beside the servers and the "
        "database: the numbers are pessimistic.",
        f"- Instances: gunicorn gthread, {WORKERS} workers x {THREADS} threads each, real app "
        "and skill, Amazon verification on (test root CA trusted; the certificate download is "
        "a file read). PostgreSQL "
        f"{pg.pg_version if pg else ''} started by the script (fsync off, synchronous commits "
        f"on). Load: {HOUSEHOLDS} households ({SECOND_DEVICES} with a second device), "
        f"{CLIENTS} requests in flight, round-robin over the live instances: dinner cards with "
        "next, timed hugs, appreciation rounds (names, journal opt-in, both shares), journal.",
        "- Outcomes: *Errors* got no HTTP 200 (connection reset, timeout, 4xx/5xx); "
        "*\"Please try again\"* is the skill's spoken answer when the store is unavailable.",
        "",
    ]
    if pg:
        lines += render_postgres(pg)
    if disk:
        lines += render_disk(disk)
    if fuzz:
        lines += render_fuzz(fuzz)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["postgres", "disk", "fuzz"], action="append",
                        help="run only these parts (default: all); results are printed, and "
                        "written to bench/RESULTS.md only when every part ran")
    args = parser.parse_args(argv)
    parts = set(args.only or ["postgres", "disk", "fuzz"])
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="closer-loadtest-"))
    pki = LivePKI.create(tmp / "pki")
    pg = run_postgres(tmp, pki) if "postgres" in parts else None
    disk = run_disk_full(tmp, pki) if "disk" in parts else None
    fuzz = run_fuzz(tmp, pki) if "fuzz" in parts else None
    report = render(pg, disk, fuzz, time.monotonic() - started)
    print(report)
    print(f"(logs in {tmp})", file=sys.stderr)
    if len(parts) == 3:
        write_section("loadtest", report)
    ok = ((pg is None or (pg.audit is not None and pg.audit.clean))
          and (disk is None or disk.skipped or (disk.audit is not None and disk.audit.clean))
          and (fuzz is None or fuzz.failure is None))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
