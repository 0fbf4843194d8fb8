"""deploy/: the systemd units (systemd-analyze verify and its offline security score), the
webhook under enforced W^X memory (what MemoryDenyWriteExecute=yes demands), the reverse
proxies forwarding only /alexa and /healthz (real Caddy and nginx in front of a real
`closer serve`), and the container file (parsed: no container engine runs here)."""

from __future__ import annotations

import http.client
import importlib.metadata as metadata
import json
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import textwrap
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from closer.cli import build_parser
from tests.support.certs import self_signed_server
from tests.support.envelopes import envelope, slot
from tests.support.live_server import LivePKI, LiveServer
from tests.support.processes import free_port, stop, wait_until_up
from tests.support.servers import closer_serve

pytestmark = pytest.mark.system  # gunicorn, the proxies and the units

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
UNITS = ("closer-webhook", "closer-speaker")


def _request(url: str, body: bytes | None = None, context: ssl.SSLContext | None = None,
             headers: dict | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=15, context=context) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Backend:
    """The webhook as the units run it (verification on), behind the proxy under test; its
    requests are signed with the test chain it trusts."""

    url: str
    pki: LivePKI

    def signed(self, body: bytes) -> dict[str, str]:
        return self.pki.headers(body)


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> Iterator[Backend]:
    tmp = tmp_path_factory.mktemp("backend")
    pki = LivePKI.create(tmp / "pki")
    server = LiveServer("backend", pki, {"CLOSER_DB": str(tmp / "closer.sqlite3"),
                                         "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics")},
                        tmp / "backend.log", workers=1, threads=1)
    server.start()
    try:
        yield Backend(server.url, pki)
    finally:
        server.stop()


def _launch_body() -> bytes:
    household = f"amzn1.ask.account.{uuid.uuid4().hex}"  # a first visit: "Welcome to..."
    return json.dumps(envelope("LaunchRequest", new=True, user=household)).encode()


# --------------------------------------------------------------------------- systemd


def _unit(name: str) -> str:
    return (DEPLOY / "systemd" / f"{name}.service").read_text()


def _directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def _installed_here(name: str, tmp_path: Path) -> Path:
    """The unit with /opt/closer-together pointing at this checkout, so that verify can
    check that ExecStart exists."""
    path = tmp_path / f"{name}.service"
    path.write_text(_unit(name).replace("/opt/closer-together", str(ROOT)))
    return path


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
@pytest.mark.parametrize("name", UNITS)
def test_unit_passes_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    done = subprocess.run(["systemd-analyze", "verify", str(_installed_here(name, tmp_path))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # unknown keys are only warnings


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
@pytest.mark.parametrize(("name", "at_most"), [("closer-webhook", 1.5), ("closer-speaker", 1.0)])
def test_unit_security_exposure(name: str, at_most: float, tmp_path: Path) -> None:
    done = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                           str(_installed_here(name, tmp_path))],
                          capture_output=True, text=True, timeout=60)
    score = re.search(r"Overall exposure level for .*: (\d+\.\d+)", done.stdout)
    assert score, done.stdout + done.stderr
    assert float(score.group(1)) <= at_most, done.stdout


@pytest.mark.parametrize("name", UNITS)
def test_units_are_hardened(name: str) -> None:
    unit = _directives(_unit(name))
    for key, value in {"DynamicUser": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
                       "RestrictNamespaces": "yes", "RestrictSUIDSGID": "yes"}.items():
        assert unit.get(key) == [value], (name, key)
    assert unit["StateDirectory"]
    assert unit["Environment"]
    data_dir = "%S/" + unit["StateDirectory"][0]
    assert f"CLOSER_DB={data_dir}/closer.sqlite3" in unit["Environment"]


def test_webhook_unit_serves_on_loopback_behind_the_proxy() -> None:
    unit = _directives(_unit("closer-webhook"))
    exec_start = shlex.split(unit["ExecStart"][0])
    args = build_parser().parse_args(exec_start[1:])
    assert (args.command, args.host, args.port, args.no_verify) == ("serve", "127.0.0.1", 8080,
                                                                    False)
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]  # gunicorn's graceful reload
    assert unit["Type"] == ["notify"]  # gunicorn tells systemd when it is ready
    assert unit["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert unit["MemoryDenyWriteExecute"] == ["yes"]
    assert "PROMETHEUS_MULTIPROC_DIR=%t/closer-together/metrics" in unit["Environment"]
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert "{$CLOSER_UPSTREAM:127.0.0.1:8080}" in caddy
    assert "server 127.0.0.1:8080;" in (DEPLOY / "nginx" / "closer-together.conf").read_text()


def test_speaker_unit_has_sound_and_no_network() -> None:
    unit = _directives(_unit("closer-speaker"))
    exec_start = shlex.split(unit["ExecStart"][0])
    args = build_parser().parse_args(exec_start[1:])
    assert args.command == "speaker" and args.endpoint is None  # the skill in process
    assert unit["IPAddressDeny"] == ["any"]
    assert unit["PrivateNetwork"] == ["yes"]
    assert unit["RestrictAddressFamilies"] == ["AF_UNIX"]
    assert unit["SupplementaryGroups"] == ["audio"]
    assert unit["DeviceAllow"] == ["char-alsa rw"]


# --------------------------------------------------------------------------- W^X memory

_MDWE_EXEC = """\
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit("PR_SET_MDWE failed")
os.execv(sys.argv[1], sys.argv[1:])
"""
_VERIFY_SCRIPT = """\
import json, mmap, sys
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit("W^X is not enforced")
except OSError:
    pass
from skill.doors.verify import CertificateFetcher, RequestVerifier
from tests.support.alexa import CERT_URL
from tests.support.certs import make_chain, make_root, sign
from tests.support.envelopes import envelope
root = make_root()
chain = make_chain(root=root)
verifier = RequestVerifier(CertificateFetcher(opener=lambda url: chain.pem),
                           trust_roots=[root.cert])
body = json.dumps(envelope("LaunchRequest")).encode()
verifier.verify({"SignatureCertChainUrl": CERT_URL, "Signature-256": sign(body, chain.leaf.key)},
                body)
print("verified")
"""


def _mdwe_supported() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    done = subprocess.run([sys.executable, "-c", _MDWE_EXEC, "/bin/true"], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(not _mdwe_supported(), reason="kernel without PR_SET_MDWE (Linux < 6.3)")
def test_webhook_runs_with_write_xor_execute_memory(tmp_path: Path) -> None:
    """MemoryDenyWriteExecute=yes in the unit: the kernel's PR_SET_MDWE enforces the same
    rule (no writable+executable memory, inherited by every child), so the webhook is run
    under it for real: Amazon's signature check, then gunicorn, Flask, the skill and SQLite."""
    wrapper = [sys.executable, "-c", _MDWE_EXEC]
    done = subprocess.run([*wrapper, sys.executable, "-c", _VERIFY_SCRIPT], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "verified" in done.stdout, done.stderr
    env = {"CLOSER_DB": str(tmp_path / "closer.sqlite3"), "CLOSER_SKILL_IDS": "",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "CLOSER_DATABASE_URL": ""}
    with closer_serve("--no-verify", "--workers", "2", env=env, prefix=tuple(wrapper)) as (
            base, _):
        names = envelope("IntentRequest", "SetNamesIntent",
                         {"firstName": slot("firstName", "sam"),
                          "secondName": slot("secondName", "alex")}, new=True)
        question = envelope("IntentRequest", "QuestionIntent",
                            {"category": slot("category", "fun", "fun")}, new=True)
        for body in (_launch_body(), json.dumps(names).encode(), json.dumps(question).encode()):
            status, answer = _request(base + "/alexa", body)
            assert status == 200, answer
        assert _request(base + "/metrics")[0] == 200


# --------------------------------------------------------------------------- reverse proxies


def _installed(tool: str) -> str:
    """The proxy's executable (nginx lives in /usr/sbin, often not on a user's PATH).
    `make setup` installs both proxies, so a missing one fails rather than skips."""
    found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail(f"{tool} is not installed: `make setup` installs it "
                    "(deploy/install-system-packages.sh)")
    return found


def test_caddy_forwards_only_the_skill(backend: Backend, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CLOSER_SITE": f"http://127.0.0.1:{port}",
           "CLOSER_UPSTREAM": backend.url.removeprefix("http://"), "CLOSER_CADDY_ADMIN": "off",
           "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    proc = subprocess.Popen([_installed("caddy"), "run", "--config", str(DEPLOY / "Caddyfile"),
                             "--adapter", "caddyfile"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(proxy + "/healthz", proc)
        # Caddy before 2.7 answers an oversized body with 502 instead of 413
        # (caddyserver/caddy#5652); either way the skill never gets it.
        _check_proxy(proxy, backend, too_big=(413, 502))
    finally:
        stop(proc)


def _check_proxy(proxy: str, backend: Backend, context: ssl.SSLContext | None = None,
                 too_big: tuple[int, ...] = (413,)) -> None:
    body = _launch_body()
    status, answer = _request(proxy + "/alexa", body, context, backend.signed(body))
    assert status == 200 and b"Welcome to Closer Together" in answer
    assert _request(proxy + "/alexa", body, context)[0] == 400  # unsigned
    assert _request(proxy + "/healthz", context=context)[0] == 200
    assert _request(backend.url + "/metrics")[0] == 200  # there on loopback...
    assert _request(proxy + "/metrics", context=context)[0] == 404  # ...never through the proxy
    assert _request(proxy + "/", context=context)[0] == 404
    oversized = b'{"pad": "' + b"x" * (200 * 1024) + b'"}'
    assert _request(proxy + "/alexa", oversized, context)[0] in too_big


def test_nginx_forwards_only_the_skill(backend: Backend, tmp_path: Path) -> None:
    """The shipped server blocks, with this machine's ports and a self-signed certificate
    in place of certbot's."""
    cert, key = self_signed_server(tmp_path, "alexa.example.org", hours=24, stem="fullchain")
    http_port, https_port = free_port(), free_port()
    site = (DEPLOY / "nginx" / "closer-together.conf").read_text()
    for old, new in {
        "listen 80;": f"listen 127.0.0.1:{http_port};", "listen [::]:80;": "",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;", "listen [::]:443 ssl;": "",
        "/etc/letsencrypt/live/alexa.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/alexa.example.org/privkey.pem": str(key),
        "server 127.0.0.1:8080;": f"server {backend.url.removeprefix('http://')};",
    }.items():
        assert old in site, old
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(textwrap.dedent(f"""\
        daemon off;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/logs/error.log;
        events {{}}
        http {{
            include {tmp_path}/site.conf;
        }}
        """))
    cmd = [_installed("nginx"), "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    proxy = f"https://127.0.0.1:{https_port}"
    try:
        wait_until_up(proxy + "/healthz", proc, context=context)
        _check_proxy(proxy, backend, context)
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=15)
        plain.request("GET", "/alexa", headers={"Host": "alexa.example.org"})
        redirect = plain.getresponse()
        # Plain HTTP only redirects (and serves the ACME challenges).
        assert redirect.status == 301
        assert redirect.getheader("Location") == "https://alexa.example.org/alexa"
        plain.close()
    finally:
        stop(proc)


# --------------------------------------------------------------------------- container file


def _containerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Containerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            out.append((instruction.upper(), rest.strip()))
    return out


def _final_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (instruction, _) in enumerate(steps) if instruction == "FROM"]
    return steps[starts[-1]:]


def _pip_installed(steps: list[tuple[str, str]]) -> list[str]:
    """The requirements the image installs before the project (with --no-deps): pip and
    setuptools, then deploy/serve-requirements.txt as locks/serve.txt pins it, every file
    checked against the lock's hashes."""
    runs = " && ".join(rest for instruction, rest in steps if instruction == "RUN")
    bootstrap = runs.find("pip install --require-hashes --no-deps -r bootstrap.txt")
    serve = runs.find("pip install --require-hashes --no-build-isolation -r serve.txt")
    assert 0 <= bootstrap < serve, runs
    lines = (DEPLOY / "serve-requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution those requirements pull in (their extras included), as installed
    in this environment."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = _norm(req.name)
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.update({key, name})
        for dep in metadata.requires(req.name) or []:
            dep_req = Requirement(dep)
            marker_ok = not dep_req.marker or any(
                dep_req.marker.evaluate({"extra": extra}) for extra in (req.extras or {""}))
            if marker_ok:
                todo.append(dep_req)
    return {s for s in seen if "[" not in s}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_containerfile_runs_closer_serve_as_non_root_with_a_health_check() -> None:
    steps = _containerfile()
    final = _final_stage(steps)
    assert re.fullmatch(r"python:3\.\d+-slim@sha256:[0-9a-f]{64}", final[0][1]), final[0]
    assert len([s for s in steps if s[0] == "FROM"]) == 2  # build tools stay in stage one
    user = [rest for instruction, rest in final if instruction == "USER"]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    cmd = json.loads(next(rest for instruction, rest in final if instruction == "CMD"))
    assert cmd[:4] == ["closer", "serve", "--host", "0.0.0.0"]
    port = cmd[cmd.index("--port") + 1]
    assert ("EXPOSE", port) in final
    assert "--no-verify" not in cmd
    health = next(rest for instruction, rest in final if instruction == "HEALTHCHECK")
    assert f"http://127.0.0.1:{port}/healthz" in health
    args = build_parser().parse_args(cmd[1:])
    assert args.command == "serve"


_SERVING_IMPORTS = ("import json, sys, closer.cli, skill.doors.webhook, skill.doors.server, "
                    "skill.doors.metrics, skill.doors.lambda_handler, skill.store.sqlite, "
                    "skill.store.postgres, gunicorn.workers.gthread, gunicorn.glogging; "
                    "closer.cli.build_parser()")


def test_containerfile_installs_the_package_and_only_what_serve_imports() -> None:
    steps = _containerfile()
    runs = [rest for instruction, rest in steps if instruction == "RUN"]
    assert any(re.search(r"pip install --no-deps --no-build-isolation \.(\s|$)", run)
               for run in runs)
    copied = {source for instruction, rest in steps if instruction == "COPY"
              and "--from" not in rest for source in rest.split()[:-1]}
    assert copied == {"locks/bootstrap.txt", "locks/serve.txt", "pyproject.toml", "README.md",
                      "closer", "skill", "speech"}
    names = _pip_installed(steps)
    declared = {_norm(Requirement(r).name) for r in tomllib.loads(
        (ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert {_norm(Requirement(n).name) for n in names} <= declared
    pinned = {_norm(name) for name in re.findall(r"^([A-Za-z0-9_.-]+)==",
                                                 (ROOT / "locks" / "serve.txt").read_text(),
                                                 re.MULTILINE)}
    for name in names:
        assert _norm(Requirement(name).name) in pinned, name
    closure = _closure(names)
    # What serving imports, measured in fresh interpreters, minus what Python loads anyway.
    report = "; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = {}
    for name, code in {"serving": _SERVING_IMPORTS, "startup": "import json, sys"}.items():
        done = subprocess.run([sys.executable, "-c", code + report], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        loaded[name] = set(json.loads(done.stdout))
    providers = metadata.packages_distributions()
    needed = {_norm(dist) for module in loaded["serving"] - loaded["startup"]
              for dist in providers.get(module, [])} - {"closer-together"}
    assert needed <= closure, sorted(needed - closure)
    for engine in ("vosk", "pocketsphinx", "numpy", "sounddevice", "pyttsx3",
                   "webrtcvad-wheels", "rapidfuzz"):
        assert engine not in closure, engine
        assert engine not in needed, engine


def test_containerfile_base_image_is_pinned_by_digest() -> None:
    """A tag moves; a digest names one build. Both stages use the same one, for the Python
    the locks are resolved for (the Makefile's LOCK_PYTHON)."""
    bases = [rest.split()[0] for instruction, rest in _containerfile() if instruction == "FROM"]
    assert len(bases) == 2 and bases[0] == bases[1], bases
    pinned = re.fullmatch(r"python:(3\.\d+)-slim(-\w+)?@sha256:[0-9a-f]{64}", bases[0])
    assert pinned, bases[0]
    lock_python = re.search(r"^LOCK_PYTHON \?= (\S+)$", (ROOT / "Makefile").read_text(),
                            re.MULTILINE)
    assert lock_python and pinned.group(1) == lock_python.group(1)


def test_containerfile_build_stage_runs_here(tmp_path: Path) -> None:
    """The build stage's own COPY and RUN steps, run on this machine with its Python in place
    of the base image (no container engine here): the hash-checked installs go through, the
    project builds with the pinned setuptools, and `closer serve --help` starts from /venv."""
    steps = _containerfile()
    build = steps[:[i for i, (instruction, _) in enumerate(steps) if instruction == "FROM"][1]]
    workdir = venv = None
    env = {**os.environ, "PATH": f"{Path(sys.base_prefix) / 'bin'}:{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    for instruction, rest in build:
        if instruction == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(rest))
        elif instruction == "WORKDIR":
            workdir = tmp_path / rest.lstrip("/")
            workdir.mkdir(parents=True)
        elif instruction == "COPY":
            *sources, dest = rest.split()
            for source in sources:
                target = workdir / dest / Path(source).name if dest.endswith("/") \
                    else workdir / dest
                if (ROOT / source).is_dir():
                    shutil.copytree(ROOT / source, target)
                else:
                    shutil.copy(ROOT / source, target)
        elif instruction == "RUN":
            venv = tmp_path / "venv"
            command = rest.replace("/venv/", f"{venv}/").replace(" /venv", f" {venv}")
            done = subprocess.run(["bash", "-c", command], cwd=workdir or tmp_path, env=env,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-4000:])
    assert venv is not None
    serving = subprocess.run([str(venv / "bin" / "python"), "-c", _SERVING_IMPORTS],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert serving.returncode == 0, serving.stderr
    versions = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list",
                               "--format=json"], capture_output=True, text=True, check=True)
    installed = {_norm(p["name"]): p["version"] for p in json.loads(versions.stdout)}
    assert installed["setuptools"] == _pin("bootstrap.txt", "setuptools")
    assert installed["pip"] == _pin("bootstrap.txt", "pip")
    for engine in ("vosk", "numpy", "pocketsphinx"):
        assert engine not in installed


def _pin(lock: str, name: str) -> str:
    found = re.search(rf"^{name}==(\S+)", (ROOT / "locks" / lock).read_text(), re.MULTILINE)
    assert found, (lock, name)
    return found.group(1)
