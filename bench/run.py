"""``python -m bench.run``: Closer Together vs a minimal ask-sdk-core skill under gunicorn.

Both are served by the same gunicorn settings with Amazon request verification on (test CA
trusted, chain served from a temp file); see bench/wsgi.py for what each app runs. wrk
(C, one thread, so the load generator takes little of the 2 cores) replays pre-signed
requests over CONNECTIONS keep-alive connections; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from bench.results import write_section
from skill.doors.server import default_workers as workers
from tests.support.certs import make_chain, make_root, sign
from tests.support.envelopes import SKILL_ID, envelope, slot

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 8
WARMUP_S = 2.0
DURATION_S = 6.0  # per server per round
ROUNDS = 4  # the servers take turns, so a busy moment on the machine hits both alike
HOUSEHOLDS = 200
P99_TARGET_MS = 10.0
ENCRYPTION_COST_MAX = 0.05  # at most 5% fewer requests/s with names and texts encrypted
COMMAND = "make bench (.venv/bin/python -m bench.run)"
GUNICORN = "-c deploy/gunicorn.conf.py"  # the product's own serving settings, for both
WRK = ["wrk", "-t1", f"-c{CONNECTIONS}", "--latency", "-s", str(ROOT / "bench" / "alexa.lua")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The servers' data key (CLOSER_DATA_KEY): a benchmark's, not a secret. Session attributes
# are signed with a key derived from it, so the evening below carries attributes every
# server accepts, as Alexa carries back what the skill answered.
BENCH_DATA_KEY = "b3" * 32


def _evening(user: str, attributes: list[dict] | None = None) -> list[dict]:
    """One household's evening: launch, names, two cards and the next, a hug, an
    appreciation round with the journal (yes), one appreciation saved, the journal read."""
    said = [("LaunchRequest", None, None),
            ("IntentRequest", "SetNamesIntent",
             {"firstName": slot("firstName", "Alex"), "secondName": slot("secondName", "Sam")}),
            ("IntentRequest", "QuestionIntent",
             {"category": slot("category", "silly", resolved_id="fun")}),
            ("IntentRequest", "QuestionIntent", {"category": slot("category")}),
            ("IntentRequest", "AMAZON.NextIntent", None),
            ("IntentRequest", "HugIntent", {"duration": slot("duration", "PT20S")}),
            ("IntentRequest", "AppreciationRoundIntent", None),
            ("IntentRequest", "AMAZON.YesIntent", None),
            ("IntentRequest", "ShareAppreciationIntent",
             {"appreciation": slot("appreciation", "you made me tea this morning")}),
            ("IntentRequest", "JournalIntent", None)]
    carried = attributes or [{} for _ in said]
    return [envelope(kind, intent, slots, user=user, attributes=attrs, new=step == 0)
            for step, ((kind, intent, slots), attrs) in enumerate(zip(said, carried,
                                                                      strict=True))]


@cache
def _evening_attributes() -> tuple[dict, ...]:
    """What each request of the evening carries back: the evening played once through the
    skill in process, under the servers' session key."""
    from skill.app import build_skill, invoke
    from skill.session import derive_key
    from skill.store import Cipher
    from skill.store.crypto import load_key
    from skill.store.sqlite import SQLiteStore

    key = load_key(BENCH_DATA_KEY)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "evening.sqlite3", cipher=Cipher(key))
        try:
            skill = build_skill(store, session_key=derive_key(key))
            carried, attributes = [], {}
            for request in _evening("amzn1.ask.account.BENCH-EVENING"):
                request["session"]["attributes"] = attributes
                carried.append(attributes)
                answer = invoke(skill, request)
                ended = answer["response"].get("shouldEndSession") is not False
                attributes = {} if ended else answer.get("sessionAttributes") or {}
        finally:
            store.close()
    return tuple(carried)


def closer_stream(user: str) -> list[dict]:
    """One household's evening, with the session attributes Alexa would send back, so each
    request takes its real path (the round asks for the journal, the yes answers it, the
    appreciation is saved and read back)."""
    return _evening(user, list(_evening_attributes()))


def minimal_stream(user: str) -> list[dict]:
    """Same length and interleaving; the minimal skill only knows launch and HelloIntent."""
    return [envelope("LaunchRequest", user=user, new=True)] + [
        envelope(intent="HelloIntent", user=user) for _ in range(9)
    ]


def presign(stream, key, path: Path) -> None:
    """Interleave households (round-robin by step), sign every body up front and write them
    in the form bench/alexa.lua reads: signature line, length line, body."""
    per_household = [stream(f"amzn1.ask.account.BENCH{i:05d}") for i in range(HOUSEHOLDS)]
    with path.open("wb") as out:
        for step in range(len(per_household[0])):
            for requests in per_household:
                body = json.dumps(requests[step]).encode()
                out.write(f"{sign(body, key)}\n{len(body)}\n".encode() + body + b"\n")


def start_server(factory: str, port: int, env: dict) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv/bin/gunicorn"), *GUNICORN.split(), "--log-level", "warning",
           f"bench.wsgi:{factory}()"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**env, "CLOSER_BIND": f"127.0.0.1:{port}"},
                            start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn for {factory} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"gunicorn for {factory} did not come up")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # our own session: master and its workers
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wrk(port: int, requests: Path, seconds: float) -> dict:
    """One wrk run; bench/alexa.lua prints its summary as one JSON line."""
    run = subprocess.run([*WRK, f"-d{seconds:.0f}s", f"http://127.0.0.1:{port}", "--",
                          str(requests)], capture_output=True, text=True, check=True)
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    return {"requests": summary["requests"],
            "rps": summary["requests"] / (summary["duration_us"] / 1e6),
            "p50": summary["p50_us"] / 1000, "p99": summary["p99_us"] / 1000,
            "errors": summary["bad"] + summary["socket_errors"]}


def combine(rounds: list[dict]) -> dict:
    """Medians over the rounds; requests and errors add up."""
    return {"requests": sum(r["requests"] for r in rounds),
            "errors": sum(r["errors"] for r in rounds),
            "rounds": [r["rps"] for r in rounds],
            **{k: statistics.median(r[k] for r in rounds) for k in ("rps", "p50", "p99")}}


def skill_cpu_us(stream, skill) -> float:
    """CPU time per request of the skill alone (ask-sdk models in, skill.invoke, JSON out),
    in this process: what separates the two columns once the serving is the same."""
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_model import RequestEnvelope

    serializer = DefaultSerializer()
    bodies = [json.dumps(request) for i in range(50)
              for request in stream(f"amzn1.ask.account.CPU{i:03d}")]
    models = [serializer.deserialize(body, RequestEnvelope) for body in bodies]
    start = time.process_time()
    for model in models:
        json.dumps(serializer.serialize(skill.invoke(request_envelope=model, context=None)))
    return (time.process_time() - start) / len(models) * 1e6


def skill_costs() -> dict[str, float]:
    from bench.minimal_skill import minimal_skill
    from skill.app import build_skill
    from skill.session import derive_key
    from skill.store import Cipher
    from skill.store.crypto import load_key
    from skill.store.sqlite import SQLiteStore

    key = load_key(BENCH_DATA_KEY)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "cpu.sqlite3", cipher=Cipher(key))
        try:
            skill = build_skill(store, session_key=derive_key(key))
            return {"Closer Together": skill_cpu_us(closer_stream, skill),
                    "Minimal skill": skill_cpu_us(minimal_stream, minimal_skill())}
        finally:
            store.close()


SERVERS = (("Closer Together", "closer", closer_stream), ("Minimal skill", "minimal",
                                                          minimal_stream))
# Where the difference lies, measured in the same rounds: the product on a database in
# memory-backed tmpfs (not durable), without encryption at rest, with no persistence at all
# (bench/memory_store.py), and
# without the per-request log line and metrics, with and without persistence.
TMPFS = "Closer Together, SQLite on tmpfs"
UNENCRYPTED = "Closer Together, names and appreciations not encrypted"
IN_MEMORY = "Closer Together, no persistence"
UNLOGGED = "Closer Together, no request log line, no metrics"
BARE = "Closer Together, no persistence, no request log line, no metrics"
# And what one durable write per request costs any skill: the minimal skill saving a row.
MINIMAL_STORE = "Minimal skill, one SQLite write per request"
DIAGNOSTICS = ((TMPFS, "closer", closer_stream),
               (UNENCRYPTED, "closer_unencrypted", closer_stream),
               (IN_MEMORY, "closer_in_memory", closer_stream),
               (UNLOGGED, "closer_unlogged", closer_stream),
               (BARE, "closer_in_memory_unlogged", closer_stream),
               (MINIMAL_STORE, "minimal_with_store", minimal_stream))


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="closer-bench-"))
    root = make_root()
    chain = make_chain(root=root)
    (tmp / "chain.pem").write_bytes(chain.pem)
    (tmp / "root.pem").write_bytes(root.cert.public_bytes(serialization.Encoding.PEM))
    env = dict(os.environ, BENCH_CHAIN_PEM=str(tmp / "chain.pem"),
               BENCH_ROOT_PEM=str(tmp / "root.pem"), CLOSER_SKILL_IDS=SKILL_ID,
               CLOSER_DATA_KEY=BENCH_DATA_KEY,
               PYTHONPATH=str(ROOT))
    shm = Path("/dev/shm")
    tmpfs = Path(tempfile.mkdtemp(prefix="closer-bench-", dir=shm)) if shm.is_dir() else tmp
    procs, ports, requests = [], {}, {}
    servers = SERVERS + DIAGNOSTICS
    try:
        for i, (name, factory, _) in enumerate(servers):
            ports[name] = _free_port()
            database = (tmpfs if name == TMPFS else tmp) / f"{factory}-{i}.sqlite3"
            procs.append(start_server(factory, ports[name], {**env, "CLOSER_DB": str(database)}))
        for i, (name, factory, _) in enumerate(servers):
            requests[name] = tmp / f"{factory}-{i}.requests"

        def sign_all() -> None:  # Alexa's timestamps stay valid for 150 s: re-signed per round
            for name, _, stream in servers:
                presign(stream, chain.leaf.key, requests[name])

        sign_all()
        for name, *_ in servers:
            wrk(ports[name], requests[name], WARMUP_S)
        rounds: dict[str, list[dict]] = {name: [] for name, *_ in servers}
        for turn in range(ROUNDS):
            sign_all()
            # Each round starts with another server: whoever goes first after the signing
            # (a burst of CPU) or last would otherwise always be the same one.
            first = turn * len(servers) // ROUNDS
            for name, *_ in servers[first:] + servers[:first]:
                rounds[name].append(wrk(ports[name], requests[name], DURATION_S))
                print(f"{name}: {rounds[name][-1]}", file=sys.stderr)
    finally:
        for proc in procs:
            stop_server(proc)
        for scratch in {tmp, tmpfs}:
            shutil.rmtree(scratch, ignore_errors=True)
    report = render({name: combine(runs) for name, runs in rounds.items()}, skill_costs())
    print(report)
    write_section("webhook", report)
    return 0


def render(results: dict[str, dict], skill_us: dict[str, float]) -> str:
    closer, minimal = results["Closer Together"], results["Minimal skill"]
    rows = [("Requests measured", "requests", "{:d}"),
            ("Requests/s (median)", "rps", "{:.1f}"),
            ("p50 latency (ms, median)", "p50", "{:.2f}"),
            ("p99 latency (ms, median)", "p99", "{:.2f}"),
            ("Errors", "errors", "{:d}")]
    table = ["| Metric | Closer Together | Minimal skill |", "|---|---:|---:|"]
    table += [f"| {label} | {fmt.format(closer[k])} | {fmt.format(minimal[k])} |"
              for label, k, fmt in rows]
    table.append("| Requests/s per round | " + " | ".join(
        ", ".join(f"{rps:.0f}" for rps in side["rounds"]) for side in (closer, minimal)) + " |")
    stored, plain = results[MINIMAL_STORE], results[UNENCRYPTED]
    tput_ok = closer["rps"] >= stored["rps"]
    cost = 1 - closer["rps"] / plain["rps"]
    p99_ok = closer["p99"] < P99_TARGET_MS
    err_ok = closer["errors"] == 0
    verdict = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731
    return "\n".join([
        "## Webhook",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}",
        f"- Machine: nproc={os.cpu_count()}, Python {platform.python_version()}, "
        f"{platform.platform()}",
        f"- Command: `{COMMAND}` (from the repo root)",
        f"- Servers: `gunicorn {GUNICORN}` (what `closer serve` runs: {workers()} gthread "
        "workers of one thread on this machine) on 127.0.0.1, verification ON for both (test "
        "root CA trusted, chain for the s3.amazonaws.com URL read from a temp file). "
        "Closer Together: `bench.wsgi:closer()`, the product's webhook and skill with its "
        "SQLite store, names and appreciations encrypted (AES-GCM). Minimal skill: "
        "`bench.wsgi:minimal()`, a one-intent ask-sdk skill "
        "served as ask-sdk's Flask adapter serves skills (the SDK's DefaultSerializer, "
        "`skill.invoke`, `jsonify`), with the same verifier.",
        f"- Load: `wrk -t1 -c{CONNECTIONS}` with bench/alexa.lua on the same machine, "
        f"{WARMUP_S:.0f} s warm-up each, then {ROUNDS} rounds in which the servers take turns "
        f"for {DURATION_S:.0f} s each (medians shown); {HOUSEHOLDS} "
        "households, pre-signed bodies interleaved round-robin. Closer Together per "
        "household: launch, SetNamesIntent, QuestionIntent with and without category, "
        "AMAZON.NextIntent, HugIntent PT20S, AppreciationRoundIntent, YesIntent (journal), "
        "ShareAppreciationIntent (saved), JournalIntent. Minimal skill: launch + 9 "
        "HelloIntent. An error is a non-200 answer, a body without `response`, or a socket "
        "error.",
        "",
        *table,
        "",
        "Targets:",
        "",
        "- Throughput >= the minimal skill making the same durable write per request "
        f"({closer['rps']:.1f} vs {stored['rps']:.1f} req/s, "
        f"{closer['rps'] / stored['rps']:.0%}): **{verdict(tput_ok)}**",
        f"- p99 < {P99_TARGET_MS:.0f} ms at {CONNECTIONS} connections "
        f"({closer['p99']:.2f} ms): **{verdict(p99_ok)}**",
        f"- No errors ({closer['errors']}): **{verdict(err_ok)}**",
        f"- Encryption at rest costs <= {ENCRYPTION_COST_MAX:.0%} of throughput "
        f"({closer['rps']:.1f} encrypted vs {plain['rps']:.1f} plain req/s: "
        f"{cost:.1%}): **{verdict(cost <= ENCRYPTION_COST_MAX)}**",
        "",
        f"The plain minimal skill ({minimal['rps']:.1f} req/s) stays for reference: it "
        "saves nothing.",
        "",
        "The load generator shares the 2 cores with the servers, so absolute numbers are "
        "pessimistic; the side-by-side comparison is the point.",
        "",
        *_diagnostics(results),
        "",
        f"Skill work per request, in process (the same requests as ask-sdk models, "
        f"`skill.invoke`, the response serialized; CPU time, same serializer for both): "
        f"Closer Together {skill_us['Closer Together']:.0f} us, minimal skill "
        f"{skill_us['Minimal skill']:.0f} us: the rituals and their SQLite writes. The rest of "
        "a request is serving: gunicorn, Flask, verification and reading the request (ask-sdk's "
        "deserializer for the minimal skill, skill/serialize.py's for Closer Together).",
    ])


def _diagnostics(results: dict[str, dict]) -> list[str]:
    """The second table: the same rounds, with the product's persistence changed."""
    minimal = results["Minimal skill"]["rps"]
    rows = [(name, results[name])
             for name in ("Closer Together", TMPFS, UNENCRYPTED, IN_MEMORY, UNLOGGED, BARE,
                          MINIMAL_STORE)]
    return [
        "Where the difference lies (same rounds; the rows after the first are measuring aids, "
        "not the product: tmpfs is not durable, bench/memory_store.py keeps one copy per "
        "worker, and the product logs one line per request and counts it in /metrics; the "
        "last row is the minimal skill saving one row per request with the product's SQLite "
        "store, `bench.wsgi:minimal_with_store()`):",
        "",
        "| Server | Requests/s (median) | vs minimal skill | p99 (ms) | Errors |",
        "|---|---:|---:|---:|---:|",
        *(f"| {name} | {r['rps']:.1f} | {r['rps'] / minimal * 100:.0f}% | {r['p99']:.2f} "
          f"| {r['errors']} |" for name, r in rows),
    ]


if __name__ == "__main__":
    sys.exit(main())
