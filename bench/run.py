"""``python -m bench.run``: Closer Together vs a minimal ask-sdk-core skill under gunicorn.

Both skills sit behind the same Flask webhook with Amazon request verification on (test CA
trusted, chain served from a temp file). A threaded keep-alive load generator sends
pre-signed requests at CONNECTIONS concurrent connections; results go to bench/RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tests.certs import make_chain, make_root, sign
from tests.envelopes import SKILL_ID, envelope, slot

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 8
WARMUP_S = 2.0
DURATION_S = 15.0
HOUSEHOLDS = 200
P99_TARGET_MS = 20.0
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"
COMMAND = ".venv/bin/python -m bench.run"
GUNICORN = "-w 2 --threads 4"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closer_stream(user: str) -> list[dict]:
    """One household's evening: every ritual the benchmark exercises."""
    return [
        envelope("LaunchRequest", user=user, new=True),
        envelope(intent="SetNamesIntent", user=user,
                 slots={"firstName": slot("firstName", "Alex"),
                        "secondName": slot("secondName", "Sam")}),
        envelope(intent="QuestionIntent", user=user,
                 slots={"category": slot("category", "fun", resolved_id="fun")}),
        envelope(intent="QuestionIntent", user=user, slots={"category": slot("category")}),
        envelope(intent="AMAZON.NextIntent", user=user),
        envelope(intent="HugIntent", user=user,
                 slots={"duration": slot("duration", "PT20S")}),
        envelope(intent="AppreciationRoundIntent", user=user),
        envelope(intent="ShareAppreciationIntent", user=user,
                 slots={"appreciation": slot("appreciation", "you made me tea this morning")},
                 attributes={"expecting": "appreciation"}),
        envelope(intent="JournalIntent", user=user),
    ]


def minimal_stream(user: str) -> list[dict]:
    """Same length and interleaving; the minimal skill only knows launch and HelloIntent."""
    return [envelope("LaunchRequest", user=user, new=True)] + [
        envelope(intent="HelloIntent", user=user) for _ in range(8)
    ]


def presign(stream, key) -> list[tuple[bytes, dict]]:
    """Interleave households (round-robin by step) and sign every body up front."""
    per_household = [stream(f"amzn1.ask.account.BENCH{i:05d}") for i in range(HOUSEHOLDS)]
    out = []
    for step in range(len(per_household[0])):
        for requests in per_household:
            body = json.dumps(requests[step]).encode()
            out.append((body, {"Content-Type": "application/json",
                               "SignatureCertChainUrl": CERT_URL,
                               "Signature-256": sign(body, key)}))
    return out


def start_server(factory: str, port: int, env: dict) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv/bin/gunicorn"), *GUNICORN.split(), "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", f"bench.wsgi:{factory}()"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
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


def load(port: int, requests: list[tuple[bytes, dict]]) -> dict:
    """CONNECTIONS keep-alive clients; warm-up, then measure for DURATION_S."""
    lock = threading.Lock()
    cursor = [0]
    t0 = time.monotonic()
    measure_from, stop_at = t0 + WARMUP_S, t0 + WARMUP_S + DURATION_S
    latencies: list[list[float]] = [[] for _ in range(CONNECTIONS)]
    errors = [0] * CONNECTIONS

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                body, headers = requests[cursor[0] % len(requests)]
                cursor[0] += 1
            start = time.monotonic()
            if start >= stop_at:
                break
            ok = False
            try:
                conn.request("POST", "/alexa", body=body, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                ok = resp.status == 200 and b'"response"' in payload
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            end = time.monotonic()
            if start >= measure_from:
                latencies[i].append(end - start)
                if not ok:
                    errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = sorted(x for per in latencies for x in per)
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [0.0] * 99
    return {"requests": len(lat), "rps": len(lat) / DURATION_S, "p50": q[49] * 1000,
            "p99": q[98] * 1000, "errors": sum(errors)}


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="closer-bench-"))
    root = make_root()
    chain = make_chain(root=root)
    (tmp / "chain.pem").write_bytes(chain.pem)
    (tmp / "root.pem").write_bytes(root.cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "leaf.key").write_bytes(chain.leaf.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    results: dict[str, dict] = {}
    for name, factory, stream in (("Closer Together", "closer", closer_stream),
                                  ("Minimal skill", "minimal", minimal_stream)):
        env = dict(os.environ, BENCH_CHAIN_PEM=str(tmp / "chain.pem"),
                   BENCH_ROOT_PEM=str(tmp / "root.pem"),
                   CLOSER_DB=str(tmp / f"{factory}.sqlite3"), CLOSER_SKILL_IDS=SKILL_ID,
                   PYTHONPATH=str(ROOT))
        port = _free_port()
        proc = start_server(factory, port, env)
        try:
            requests = presign(stream, chain.leaf.key)  # fresh timestamps, < 150 s old
            results[name] = load(port, requests)
        finally:
            stop_server(proc)
        print(f"{name}: {results[name]}", file=sys.stderr)
    report = render(results)
    print(report)
    (ROOT / "bench" / "RESULTS.md").write_text(report)
    return 0


def render(results: dict[str, dict]) -> str:
    closer, minimal = results["Closer Together"], results["Minimal skill"]
    rows = [("Requests measured", "requests", "{:d}"), ("Requests/s", "rps", "{:.1f}"),
            ("p50 latency (ms)", "p50", "{:.2f}"), ("p99 latency (ms)", "p99", "{:.2f}"),
            ("Errors", "errors", "{:d}")]
    table = ["| Metric | Closer Together | Minimal skill |", "|---|---:|---:|"]
    table += [f"| {label} | {fmt.format(closer[k])} | {fmt.format(minimal[k])} |"
              for label, k, fmt in rows]
    tput_ok = closer["rps"] >= minimal["rps"]
    p99_ok = closer["p99"] < P99_TARGET_MS
    err_ok = closer["errors"] == 0
    verdict = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731
    return "\n".join([
        "# Closer Together webhook benchmark",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}",
        f"- Machine: nproc={os.cpu_count()}, Python {platform.python_version()}, "
        f"{platform.platform()}",
        f"- Command: `{COMMAND}` (from the repo root)",
        f"- Servers: `gunicorn {GUNICORN}` on 127.0.0.1, `bench.wsgi:closer()` (SQLite file, "
        "persistence on) and `bench.wsgi:minimal()` (bench/minimal_skill.py), both through "
        "`create_app` with request verification ON (test root CA trusted, chain for the "
        "s3.amazonaws.com URL read from a temp file).",
        f"- Load: {CONNECTIONS} keep-alive connections (Python threads + http.client, same "
        f"machine), {WARMUP_S:.0f} s warm-up then {DURATION_S:.0f} s measured per server; "
        f"{HOUSEHOLDS} households, pre-signed bodies interleaved round-robin. Closer Together: "
        "launch, SetNamesIntent, QuestionIntent with and without category, AMAZON.NextIntent, "
        "HugIntent PT20S, AppreciationRoundIntent, ShareAppreciationIntent, JournalIntent. "
        "Minimal skill: launch + 8 HelloIntent per household. An error is a non-200 answer, "
        "a body without `response`, or a connection failure.",
        "",
        *table,
        "",
        "## Targets",
        "",
        f"- Throughput >= minimal skill's ({closer['rps']:.1f} vs {minimal['rps']:.1f} "
        f"req/s): **{verdict(tput_ok)}**",
        f"- p99 < {P99_TARGET_MS:.0f} ms at {CONNECTIONS} connections "
        f"({closer['p99']:.2f} ms): **{verdict(p99_ok)}**",
        f"- No errors ({closer['errors']}): **{verdict(err_ok)}**",
        "",
        "The load generator runs on the same machine and competes with the servers for CPU, "
        "so absolute numbers are pessimistic; the side-by-side comparison is the point.",
        "",
    ])


if __name__ == "__main__":
    sys.exit(main())
