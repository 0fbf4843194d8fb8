"""The supply chain (issue 15, part 6): hash-pinned locks that hold exactly what pyproject.toml
and deploy/serve-requirements.txt ask for, the environment the tests run in installed from
them, pip and setuptools pinned past setuptools' CVEs, setup that installs nothing the locks
do not pin, and the audit `make test` runs before pytest: a known vulnerability fails it with
the finding shown, the allow-list lets a dated one pass, and without PyPI it skips in one
line.

PyPI's per-release vulnerability data cannot be reached from here, so the audit's findings
are checked against a stand-in for pypi.org on loopback (a TLS proxy with a test CA): the
real pip-audit asks it exactly what it would ask PyPI."""

from __future__ import annotations

import datetime
import importlib.metadata as metadata
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.certs import self_signed_server

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "locks"
AUDIT = ROOT / "deploy" / "audit_locks.py"
SPEECH_ENGINES = ("vosk", "pocketsphinx", "numpy", "sounddevice", "pyttsx3", "rapidfuzz",
                  "piper-tts", "onnxruntime")


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: frozenset[str]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock(name: str) -> dict[str, Pin]:
    """A lock's packages: each `name==version`, its --hash options."""
    text = (LOCKS / name).read_text().replace("\\\n", " ")
    pins: dict[str, Pin] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line.split(" --hash=")[0].strip())
        (spec,) = requirement.specifier
        assert spec.operator == "==", line
        name_ = _norm(requirement.name)
        assert name_ not in pins, f"{name}: {name_} twice"
        hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})\b", line))
        assert hashes, f"{name}: {name_} has no hash"
        pins[name_] = Pin(spec.version, hashes)
    return pins


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution those requirements pull in on this machine (extras included), from
    the installed packages' metadata."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    names: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        key = (_norm(req.name), tuple(sorted(req.extras)))
        if key in seen:
            continue
        seen.add(key)
        names.add(key[0])
        for dep in metadata.requires(req.name) or []:
            dep_req = Requirement(dep)
            if not dep_req.marker or any(dep_req.marker.evaluate({"extra": extra})
                                         for extra in (req.extras or {""})):
                todo.append(dep_req)
    return names


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


# --------------------------------------------------------------------------- the locks


@pytest.mark.parametrize("name", ["bootstrap.txt", "uv.txt", "run.txt", "test.txt",
                                  "serve.txt"])
def test_every_lock_pins_each_package_to_one_release_with_its_hashes(name: str) -> None:
    assert _lock(name)


@pytest.mark.parametrize(("lock", "extras"), [("run.txt", ["voice"]),
                                              ("test.txt", ["voice", "dev"])])
def test_a_lock_holds_exactly_what_pyproject_asks_for(lock: str, extras: list[str]) -> None:
    """Nothing missing (a dependency added to pyproject.toml without `make lock` fails here)
    and nothing left over; every pin within pyproject's bounds."""
    project = _project()
    wanted = project["dependencies"] + [r for extra in extras
                                        for r in project["optional-dependencies"][extra]]
    pins = _lock(lock)
    assert set(pins) == _closure(wanted)
    for requirement in map(Requirement, wanted):
        assert pins[_norm(requirement.name)].version in requirement.specifier, requirement


def test_the_serve_lock_holds_what_serving_needs_and_no_speech_engine() -> None:
    lines = (ROOT / "deploy" / "serve-requirements.txt").read_text().splitlines()
    wanted = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    pins = _lock("serve.txt")
    assert set(pins) == _closure(wanted)
    for engine in SPEECH_ENGINES:
        assert engine not in pins


@pytest.mark.parametrize("subset", ["run.txt", "serve.txt", "bootstrap.txt"])
def test_the_locks_agree_on_every_release_they_share(subset: str) -> None:
    """One source of truth: run and serve are resolved within the test lock, the installers
    within the bootstrap lock, so a shared package has one release and one set of hashes."""
    test = _lock("test.txt")
    for name, pin in _lock(subset).items():
        if name in test:
            assert test[name] == pin, name


def test_the_lock_hashes_cover_this_platform_for_the_one_sdist_too() -> None:
    """srt ships only an sdist; it is hashed like the wheels and built by the pinned
    setuptools (--no-build-isolation), so no build fetches an unpinned one."""
    assert "srt" in _lock("test.txt")
    assert "srt" in _lock("run.txt")


# --------------------------------------------------------------------------- this environment


def test_this_environment_is_what_the_test_lock_pins() -> None:
    for name, pin in _lock("test.txt").items():
        assert metadata.version(name) == pin.version, name


def test_pip_and_setuptools_are_pinned_past_setuptools_cves() -> None:
    """The finding: Python 3.11's venv brings setuptools 65.5.0 (CVE-2022-40897,
    CVE-2024-6345, CVE-2025-47273; fixed in 78.1.1), and nothing pinned it or pip."""
    bootstrap = _lock("bootstrap.txt")
    assert set(bootstrap) == {"pip", "setuptools"}
    assert Version(bootstrap["setuptools"].version) >= Version("78.1.1")
    for name, pin in bootstrap.items():
        assert metadata.version(name) == pin.version, name
    build_requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
    assert Version(bootstrap["setuptools"].version) in \
        Requirement(build_requires["requires"][0]).specifier


# --------------------------------------------------------------------------- the Makefile


def _make_dry_run(target: str, tmp_path: Path) -> list[str]:
    """The commands `make TARGET` would run in a fresh clone (no .venv yet), in order."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(LOCKS, tmp_path / "locks")
    done = subprocess.run(["make", "-n", target], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize(("target", "lock"), [("setup-run", "locks/run.txt"),
                                              ("setup-test", "locks/test.txt")])
def test_setup_installs_only_what_the_locks_pin(target: str, lock: str,
                                                tmp_path: Path) -> None:
    installs = [line for line in _make_dry_run(target, tmp_path) if "pip install" in line]
    assert installs == [
        ".venv/bin/python -m pip install -q --require-hashes --no-deps -r locks/bootstrap.txt",
        f".venv/bin/python -m pip install -q --require-hashes --no-build-isolation -r {lock}",
        ".venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .",
    ]


def test_make_test_lints_audits_then_runs_the_tests(tmp_path: Path) -> None:
    steps = [line for line in _make_dry_run("test", tmp_path)
             if line.startswith((".venv/bin/ruff", ".venv/bin/pytest"))
             or "audit_locks.py" in line]
    assert steps == [".venv/bin/ruff check .", ".venv/bin/python deploy/audit_locks.py",
                     ".venv/bin/pytest -q"]


# --------------------------------------------------------------------------- the audit


def _audit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(AUDIT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=env)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_audit_without_pypi_skips_in_one_line_and_passes() -> None:
    done = _audit("--probe-url", f"http://127.0.0.1:{_closed_port()}/pypi/pip/26.3/json")
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("audit skipped: PyPI's vulnerability data is out of reach (")
    assert "Connection refused" in line and "not checked" in line


def test_audit_can_insist_on_pypi() -> None:
    done = _audit("--require-network", "--probe-url",
                  f"http://127.0.0.1:{_closed_port()}/pypi/pip/26.3/json")
    assert done.returncode == 1
    assert done.stdout.startswith("audit failed: PyPI's vulnerability data is out of reach")


@pytest.mark.parametrize(("entry", "said"), [
    ("PYSEC-2026-1 soon reason", "'soon' is not a date"),
    ("PYSEC-2026-1 2027-01-01", "want 'ID YYYY-MM-DD reason'"),
    ("PYSEC-2026-1 2020-01-01 accepted long ago", "was accepted until 2020-01-01"),
])
def test_a_bad_or_expired_allow_list_entry_stops_the_audit(entry: str, said: str,
                                                           tmp_path: Path) -> None:
    allow = tmp_path / "audit-allow.txt"
    allow.write_text(f"# a comment\n\n{entry}\n")
    done = _audit("--allow-list", str(allow), "--probe-url",
                  f"http://127.0.0.1:{_closed_port()}/")  # even offline
    assert done.returncode == 1
    assert "audit-allow.txt:3" in done.stderr and said in done.stderr


def test_the_shipped_allow_list_is_valid_today() -> None:
    done = _audit("--probe-url", f"http://127.0.0.1:{_closed_port()}/")
    assert done.returncode == 0, done.stderr


# A stand-in for pypi.org's per-release JSON API, reached the way pip-audit reaches PyPI:
# through an HTTPS proxy (HTTPS_PROXY), with TLS for "pypi.org" from a test CA that
# SSL_CERT_FILE and REQUESTS_CA_BUNDLE make trusted for the audit's process alone.

VULNERABLE = ("setuptools", "PYSEC-0000-1", "99.0")  # what the stand-in says of one pin


class _StandInPyPI(BaseHTTPRequestHandler):
    """CONNECT pypi.org:443, then TLS as pypi.org, then PyPI's answers: every release has no
    vulnerability except VULNERABLE's."""

    tls: ssl.SSLContext
    asked: list[str]

    def do_CONNECT(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path != "pypi.org:443":
            self.send_error(403)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.connection = self.tls.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb")
        self.close_connection = False

    def do_GET(self) -> None:  # noqa: N802
        found = re.fullmatch(r"/pypi/([^/]+)/([^/]+)/json", self.path)
        if found is None:
            self.send_error(404)
            return
        name, version = found.groups()
        self.asked.append(name)
        vulns = []
        if name == VULNERABLE[0]:
            vulns = [{"id": VULNERABLE[1], "aliases": ["CVE-0000-1"], "fixed_in": [VULNERABLE[2]],
                      "summary": "a stand-in finding", "published": "2026-12-01T00:00:00Z"}]
        body = json.dumps({"info": {"name": name, "version": version},
                           "vulnerabilities": vulns}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _stand_in_pypi(tmp_path: Path) -> Iterator[tuple[dict[str, str], list[str]]]:
    cert, key = self_signed_server(tmp_path, "pypi.org", stem="pypi")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    asked: list[str] = []
    handler = type("Handler", (_StandInPyPI,), {"tls": tls, "asked": asked})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy = f"http://127.0.0.1:{server.server_address[1]}"
    env = {**os.environ, "HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "",
           "no_proxy": "", "SSL_CERT_FILE": str(cert), "REQUESTS_CA_BUNDLE": str(cert),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}  # nothing cached outside this test
    try:
        yield env, asked
    finally:
        server.shutdown()
        thread.join()


@pytest.mark.system  # pip-audit against a server on loopback
def test_a_known_vulnerability_fails_the_audit_with_the_finding_shown(tmp_path: Path) -> None:
    with _stand_in_pypi(tmp_path) as (env, asked):
        done = _audit(env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    name, vuln_id, fixed = VULNERABLE
    row = next(line for line in done.stdout.splitlines() if line.startswith(name + " "))
    assert row.split() == [name, _lock("bootstrap.txt")[name].version, vuln_id, fixed]
    assert "audit failed: see above" in done.stdout
    every_pin = {n for lock in ("bootstrap.txt", "uv.txt", "test.txt", "serve.txt")
                 for n in _lock(lock)}
    assert {_norm(n) for n in asked} >= every_pin  # each release was asked about


@pytest.mark.system
def test_an_accepted_vulnerability_passes_until_its_date(tmp_path: Path) -> None:
    until = datetime.date.today() + datetime.timedelta(days=30)
    allow = tmp_path / "audit-allow.txt"
    allow.write_text(f"{VULNERABLE[1]}  {until}  the stand-in's finding, for this test\n")
    with _stand_in_pypi(tmp_path) as (env, _):
        done = _audit("--allow-list", str(allow), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"audit: accepting {VULNERABLE[1]} until {until}" in done.stdout
