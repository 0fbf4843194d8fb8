"""gunicorn settings for the webhook, in one place: `closer serve` runs gunicorn in process
with them, and deploy/gunicorn.conf.py hands the same ones to a stand-alone gunicorn.

This module imports neither the app nor prometheus_client: the metrics directory must be
in the environment before prometheus_client is first imported (it picks its storage then).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

ALEXA_DEADLINE_S = 8  # Alexa gives up on an answer after this long
_PREPARED = "METRICS_DIR_PREPARED_BY_PID"  # which process emptied the directory

# gunicorn's own lines (worker boots, exits, timeouts) as JSON lines like ours. There is no
# access log: paths alone say nothing our request lines do not, and headers carry ids.
LOGCONFIG: dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "skill.logs.JsonLines"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        # The skill's own lines (one per request, rejections, store trouble), as
        # skill/logs.py sets them up for `closer serve`: gunicorn run by hand logs the same.
        "closer": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    },
    # Libraries' warnings (psycopg's pool, say) as JSON lines too, not Python's bare fallback.
    "root": {"level": "WARNING", "handlers": ["stderr"]},
}


class NoAccessLog(Logger):
    """gunicorn's logger without the access log. Given a logging configuration (ours turns
    its lines into JSON), gunicorn builds every request's access-log line even with no access
    log to write it to: 4% of the webhook's CPU under load, for nothing."""

    def _compute_access_log_enabled(self) -> bool:
        return False


def default_workers() -> int:
    """2 x usable cores + 1 (gunicorn's rule for CPU work), at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))  # honours CPU pinning and cpusets
    except AttributeError:
        cores = os.cpu_count() or 1
    return min(2 * cores + 1, 8)


def prepare_multiprocess_dir() -> Path:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty directory (a fresh temporary one unless
    set); once per server process, so a configuration reload (SIGHUP) keeps the counts."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if os.environ.get(_PREPARED) == str(os.getpid()) and path:
        return Path(path)
    if path:
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # a previous run's workers
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="closer-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        atexit.register(_remove_if_owner, directory, os.getpid())
    os.environ[_PREPARED] = str(os.getpid())
    return directory


def _remove_if_owner(directory: Path, owner: int) -> None:
    if os.getpid() == owner:  # forked workers inherit this hook; only the server cleans up
        shutil.rmtree(directory, ignore_errors=True)


def _on_starting(_server: object) -> None:
    prepare_multiprocess_dir()


def _child_exit(_server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def _worker_tmp_dir() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def settings(bind: str = "127.0.0.1:8080", workers: int | None = None,
             threads: int = 1) -> dict[str, object]:
    """Every gunicorn setting the webhook runs with."""
    return {
        "bind": [bind],
        "workers": workers or default_workers(),
        "worker_class": "gthread",
        # One request at a time per worker: the work is Python on the CPU, and threads only
        # queued on the GIL (2 cores, make bench: 4 threads per worker ~1,900 req/s at p99
        # 16 ms, 1 thread ~2,000 req/s at p99 7-10 ms). Keep-alive connections still wait
        # in the worker's poller. CLOSER_THREADS raises it where the store is far away.
        "threads": threads,
        # A worker that stops reporting for this long is killed and replaced: less than
        # Alexa's deadline. (With threads a slow *request* is bounded by the store's own
        # timeouts instead; Alexa drops the answer after 8 s either way.)
        "timeout": ALEXA_DEADLINE_S - 1,
        # SIGHUP and SIGTERM let in-flight requests finish: long enough for any answer
        # Alexa would still accept.
        "graceful_timeout": ALEXA_DEADLINE_S + 2,
        "keepalive": 5,
        # Recycle workers now and then (jittered so they do not all restart together), as a
        # guard against slow leaks. Not often: a new worker spends about a second of CPU
        # booting, and at 5,000 requests each of 5 workers restarted every ~12 s under load.
        "max_requests": 100_000,
        "max_requests_jitter": 10_000,
        "worker_tmp_dir": _worker_tmp_dir(),  # heartbeats on tmpfs, never a slow disk
        "forwarded_allow_ips": "127.0.0.1,::1",  # the reverse proxy on this box
        "accesslog": None,
        "logger_class": "skill.doors.server.NoAccessLog",
        "errorlog": "-",
        "loglevel": "info",
        "logconfig_dict": LOGCONFIG,
        "proc_name": "closer-together",
        # gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl):
        # several instances on a box would fight over it, and signals do the same job.
        "control_socket_disable": True,
        "on_starting": _on_starting,
        "child_exit": _child_exit,
    }


class _Gunicorn(BaseApplication):
    """Each worker builds its own app (and database connections) after the fork."""

    def __init__(self, factory: Callable[[], Flask], options: dict) -> None:
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def run(factory: Callable[[], Flask], bind: str, workers: int | None = None,
        threads: int = 1, when_ready: Callable[[int], None] | None = None) -> None:
    """Serve ``factory()`` with :func:`settings` until stopped (SIGHUP reloads gracefully).
    ``when_ready(port)`` is called once the port is bound (port 0 binds a free one)."""
    options = settings(bind, workers, threads)
    if when_ready is not None:
        options["when_ready"] = lambda server: when_ready(_bound_port(server))
    _Gunicorn(factory, options).run()


def _bound_port(arbiter: object) -> int:
    listener = arbiter.LISTENERS[0]  # type: ignore[attr-defined]
    return int(listener.sock.getsockname()[1])


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
