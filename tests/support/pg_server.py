"""A real, throwaway PostgreSQL server for tests (session-scoped pytest fixtures).

``postgres_server`` runs ``initdb`` into a fresh temporary directory and starts
``postgres`` listening only on 127.0.0.1 (a free port) and on a unix socket inside that
directory, with ``fsync=off`` for speed; it yields a :class:`PostgresServer` and stops
the server at the end of the session. ``postgres_url`` yields the URL of a new, empty
database for each test. As root the server runs as the ``postgres`` system user (created
if missing), since PostgreSQL refuses to run as root. Without PostgreSQL binaries the
tests are skipped (``make`` installs them). ``running_server`` is the same server outside
pytest, with settings of your own (bench/loadtest.py restarts it under load).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PG_USER = "postgres"  # the database superuser created by initdb
OS_USER = "postgres"  # the system account the server runs as when we are root


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl: newest /usr/lib/postgresql/*/bin, then PATH."""

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    return None


def _ensure_os_user() -> None:
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
            check=True,
            capture_output=True,
        )


# The number in the socket's name (.s.PGSQL.5432); each server has a directory of its own.
SOCKET_PORT = 5432


@dataclass
class PostgresServer:
    bin_dir: Path
    base_dir: Path
    data_dir: Path
    socket_dir: Path
    port: int
    as_root: bool
    # Server settings (``-c name=value``) on top of the test defaults below.
    settings: dict[str, str] = field(default_factory=dict)

    def url(self, database: str = "postgres") -> str:
        """The server's own Unix socket: no TCP port to find free, or to race for."""
        return f"postgresql://{PG_USER}@/{database}?host={self.socket_dir}&port={self.port}"

    def _run(self, args: list[str], *, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(args[0]), *map(str, args[1:])]
        if self.as_root:
            command = ["runuser", "-u", OS_USER, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.base_dir
        )
        if result.returncode != 0:
            log = self.base_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{tail}"
            )
        return result

    def initdb(self) -> None:
        self._run(
            [
                self.bin_dir / "initdb",
                "-D",
                self.data_dir,
                "-U",
                PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            timeout=120,
        )

    def start(self) -> None:
        settings = {
            "listen_addresses": "",  # the socket in its own directory only
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            **self.settings,
        }
        options = " ".join(f"-c {name}={value}" for name, value in settings.items())
        self._run(
            [
                self.bin_dir / "pg_ctl",
                "-D",
                self.data_dir,
                "-l",
                self.base_dir / "server.log",
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout=90,
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server; ``mode="fast"`` rolls back open transactions and disconnects."""
        self._run(
            [self.bin_dir / "pg_ctl", "-D", self.data_dir, "-m", mode, "-w", "stop"],
            timeout=60,
        )

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def running_server(bin_dir: Path, **settings: str) -> Iterator[PostgresServer]:
    """A fresh server (initdb in a new temporary directory), removed afterwards."""
    as_root = os.geteuid() == 0
    # Not under pytest's tmp dir: as root that is private to root, and the server user
    # must reach its data directory. Short path too: unix socket paths are length-limited.
    base_dir = Path(tempfile.mkdtemp(prefix="closer-pg-"))
    data_dir, socket_dir = base_dir / "data", base_dir / "sock"
    socket_dir.mkdir()
    if as_root:
        _ensure_os_user()
        account = pwd.getpwnam(OS_USER)
        base_dir.chmod(0o755)
        for path in (base_dir, socket_dir):
            os.chown(path, account.pw_uid, account.pw_gid)
    server = PostgresServer(
        bin_dir, base_dir, data_dir, socket_dir, SOCKET_PORT, as_root, dict(settings)
    )
    try:
        server.initdb()
        server.start()
    except Exception:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin "
            "or on PATH; install them (the Makefile does) to run the PostgreSQL store tests"
        )
    with running_server(bin_dir) as server:
        yield server


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database on the session's server (one per test)."""
    return postgres_server.create_database(f"test_{os.getpid()}_{next(_database_numbers)}")
