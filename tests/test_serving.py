"""Production serving: `closer serve` and deploy/gunicorn.conf.py share one set of gunicorn
settings; GET /metrics adds up every worker; SIGHUP restarts workers gracefully; server logs
are JSON lines without what anyone said. Real server processes on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import gunicorn.config
import pytest
from cryptography.hazmat.primitives import serialization

from skill.doors import server
from tests.support.alexa import AlexaCloud
from tests.support.certs import make_chain, make_root
from tests.support.envelopes import SKILL_ID, envelope, slot
from tests.support.processes import listening_server

pytestmark = pytest.mark.system  # gunicorn

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOKEN = "s3cret-scrape-token"


@dataclass
class Served:
    proc: subprocess.Popen
    base: str
    metrics_dir: Path
    stderr: Path

    def log_lines(self) -> list[str]:
        return self.stderr.read_text().splitlines()


def _status(url: str, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as error:
        return error.code


def _post(base: str, body: dict | bytes) -> int:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(base + "/alexa", data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as error:
        return error.code


def _scrape(base: str) -> dict[str, float]:
    req = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def _up(base: str) -> bool:
    try:
        return _status(base + "/healthz") == 200
    except OSError:
        return False


@contextmanager
def _running(cmd: list[str], tmp_path: Path, env: dict | None = None) -> Iterator[Served]:
    """The server binds a free port itself ("{port}" becomes 0) and says which."""
    metrics_dir = tmp_path / "metrics"
    full_env = {**os.environ, "CLOSER_DB": str(tmp_path / "closer.sqlite3"),
                "CLOSER_SKILL_IDS": SKILL_ID, "CLOSER_METRICS_TOKEN": TOKEN,
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), **(env or {})}
    full_env.pop("CLOSER_DATABASE_URL", None)
    full_env = {k: v.replace("{port}", "0") for k, v in full_env.items()}
    cmd = [c.replace("{port}", "0") for c in cmd]
    log = tmp_path / "stderr.log"
    with listening_server(cmd, env=full_env, log=log, cwd=ROOT) as (base, proc):
        yield Served(proc, base, metrics_dir, log)


def _closer_serve(tmp_path: Path, workers: int = 2) -> Iterator[Served]:
    return _running([str(BIN / "closer"), "serve", "--no-verify", "--port", "{port}",
                     "--workers", str(workers)], tmp_path)


def _worker_pids_with_counts(metrics_dir: Path) -> set[str]:
    return {m.group(1) for p in metrics_dir.glob("counter_*.db")
            if (m := re.fullmatch(r"counter_(\d+)\.db", p.name))}


def _launch() -> dict:
    return envelope("LaunchRequest", new=True)


def _names(first: str, second: str) -> dict:
    return envelope("IntentRequest", "SetNamesIntent", {"firstName": slot("firstName", first),
                                                        "secondName": slot("secondName", second)},
                    new=True)


# --------------------------------------------------------------------------- settings


def test_closer_serve_and_gunicorn_conf_use_the_same_settings() -> None:
    done = subprocess.run([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                           "--print-config", "skill.doors.webhook:create_app()"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "CLOSER_WORKERS": "3"})
    assert done.returncode == 0, done.stderr
    printed = dict(re.findall(r"^(\w+)\s+= (.*)$", done.stdout, re.MULTILINE))
    expected = server.settings("127.0.0.1:8080", workers=3)
    normalized = gunicorn.config.Config()  # gunicorn's own parsing of each value
    for name, value in expected.items():
        normalized.set(name, value)
        if callable(value):
            assert printed[name] == f"<{value.__name__}()>", name
        elif name != "logconfig_dict":
            assert printed[name] == str(normalized.settings[name].get()), name
    assert expected["timeout"] < 8 <= expected["graceful_timeout"]
    assert expected["max_requests"] and expected["max_requests_jitter"]
    assert expected["accesslog"] is None


def test_default_workers_follow_the_usable_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert server.default_workers() == min(2 * cores + 1, 8)


def test_gunicorn_with_the_conf_file_serves_with_verification_on(tmp_path: Path) -> None:
    cmd = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--workers", "1",
           "skill.doors.webhook:create_app()"]
    with _running(cmd, tmp_path, {"CLOSER_BIND": "127.0.0.1:{port}"}) as served:
        assert _status(served.base + "/healthz") == 200
        assert _post(served.base, _launch()) == 400  # unsigned: verification is on
        counts = _scrape(served.base)
    unsigned = 'closer_verification_failures_total{reason="missing signature headers"}'
    assert counts[unsigned] == 1


def test_gunicorn_with_the_conf_file_logs_each_request_as_closer_serve_does(
        tmp_path: Path) -> None:
    root = make_root()
    chain = make_chain(root=root)
    (tmp_path / "chain.pem").write_bytes(chain.pem)
    (tmp_path / "root.pem").write_bytes(root.cert.public_bytes(serialization.Encoding.PEM))
    # bench.wsgi:closer() is the product's app with a verifier trusting the test root.
    cmd = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--workers", "1",
           "bench.wsgi:closer()"]
    env = {"CLOSER_BIND": "127.0.0.1:{port}", "BENCH_CHAIN_PEM": str(tmp_path / "chain.pem"),
           "BENCH_ROOT_PEM": str(tmp_path / "root.pem")}
    with _running(cmd, tmp_path, env) as served:
        cloud = AlexaCloud(served.base + "/alexa", chain.leaf.key)
        cloud.send(_names("zephyrine", "balthazar"))
    lines = served.log_lines()
    assert any('"closer.skill"' in line and '"SetNamesIntent"' in line for line in lines)
    assert not any("zephyrine" in line or "balthazar" in line for line in lines)


# --------------------------------------------------------------------------- metrics


def test_metrics_add_up_every_worker(tmp_path: Path) -> None:
    with _closer_serve(tmp_path, workers=2) as served:
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            # Concurrent requests land on both workers; stop once both have counted some.
            while len(_worker_pids_with_counts(served.metrics_dir)) < 2:
                assert sent < 800, "every request went to one worker"
                statuses = list(pool.map(lambda _: _post(served.base, _launch()), range(16)))
                assert statuses == [200] * 16
                sent += 16
        assert _post(served.base, b'{"request": ') == 400
        other_app = envelope("LaunchRequest", app_id="amzn1.ask.skill.someone-else")
        assert _post(served.base, other_app) == 400
        scrapes = [_scrape(served.base) for _ in range(8)]  # answered by either worker
    ok = 'closer_requests_total{outcome="ok",request_type="LaunchRequest"}'
    malformed = 'closer_requests_total{outcome="rejected_malformed",request_type="unknown"}'
    wrong_app = 'closer_requests_total{outcome="rejected_application_id",request_type="unknown"}'
    latency = 'closer_request_duration_seconds_count{request_type="LaunchRequest"}'
    for counts in scrapes:
        assert counts[ok] == sent
        assert counts[malformed] == 1
        assert counts[wrong_app] == 1
        assert counts[latency] == sent
        assert counts['closer_verification_failures_total{reason="unknown application id"}'] == 1
        assert counts['closer_request_duration_seconds_bucket{le="+Inf",'
                      'request_type="LaunchRequest"}'] == sent


def test_metrics_need_the_token_when_one_is_set(tmp_path: Path) -> None:
    with _closer_serve(tmp_path, workers=1) as served:
        assert _status(served.base + "/metrics") == 403
        assert _status(served.base + "/metrics", {"Authorization": "Bearer wrong"}) == 403
        assert _status(served.base + "/metrics", {"Authorization": f"Bearer {TOKEN}"}) == 200


def test_sighup_replaces_workers_and_keeps_serving_and_counting(tmp_path: Path) -> None:
    with _closer_serve(tmp_path, workers=2) as served:
        for _ in range(5):
            assert _post(served.base, _launch()) == 200
        deadline = time.monotonic() + 60
        while len(booted := _booted_pids(served)) < 2:  # the second may still be starting
            assert time.monotonic() < deadline, "the second worker never booted"
            time.sleep(0.2)
        assert len(booted) == 2
        served.proc.send_signal(signal.SIGHUP)
        while len(_booted_pids(served)) < 4:
            assert served.proc.poll() is None
            assert time.monotonic() < deadline, "no new workers after SIGHUP"
            time.sleep(0.2)
        while not all(_gone(pid) for pid in booted):  # the old workers finish and leave
            assert time.monotonic() < deadline, "old workers still running after SIGHUP"
            time.sleep(0.2)
        assert _post(served.base, _launch()) == 200
        # The old workers' counts survive the reload.
        assert _scrape(served.base)[
            'closer_requests_total{outcome="ok",request_type="LaunchRequest"}'] == 6
        assert served.proc.poll() is None  # the same master, still running


def _booted_pids(served: Served) -> set[str]:
    pids = set()
    for line in served.log_lines():
        event = json.loads(line).get("event", "")
        if match := re.fullmatch(r"Booting worker with pid: (\d+)", event):
            pids.add(match.group(1))
    return pids


def _gone(pid: str) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


# --------------------------------------------------------------------------- logs


def test_server_logs_are_json_lines_without_what_was_said(tmp_path: Path) -> None:
    secrets = ("zephyrine", "balthazar", "marmalade origami")
    names = _names("zephyrine", "balthazar")
    share = envelope("IntentRequest", "ShareAppreciationIntent",
                     {"appreciation": slot("appreciation", "you folded a marmalade origami")})
    with _closer_serve(tmp_path, workers=2) as served:
        assert _post(served.base, names) == 200
        assert _post(served.base, share) == 200
        assert _post(served.base, b"not json") == 400
    lines = served.log_lines()
    assert any('"gunicorn.error"' in line for line in lines)
    assert any('"SetNamesIntent"' in line for line in lines)
    for line in lines:
        json.loads(line)  # every line, gunicorn's included, is one JSON object
        for secret in secrets:
            assert secret not in line.lower(), line
