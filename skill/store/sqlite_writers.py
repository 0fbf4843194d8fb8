"""SQLite's writers' turn and its background checkpointer (used by skill/store/sqlite.py).

SQLite lets one writer in at a time; its own busy handler makes the others poll with
sleeps of 1 to 100 ms, which under concurrent load became the webhook's p99 latency. So
writers take turns here first: a lock among this process's threads (handed over at once),
then an ``flock`` of a file beside the database among processes, polled every 0.1 to 2 ms.
The wait is bounded: past ``timeout_s`` the caller gets StoreUnavailable ("please try
again"), never a request that hangs past Alexa's 8 s.

A checkpoint run by a committing request would fsync while every other writer waits for
its turn, which was most of the webhook's p99 latency under load, so a thread copies the
write-ahead log into the database shortly after writes instead.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from skill.store.base import StoreUnavailable

CHECKPOINT_EVERY_S = 0.1


class WritersTurn:
    """One writer at a time across threads and processes, each waiting at most ``timeout_s``."""

    def __init__(self, lock_path: Path, timeout_s: float) -> None:
        self.lock_path = lock_path
        self.timeout_s = timeout_s
        self._threads = threading.Lock()
        self._local = threading.local()
        self._fds: list[int] = []
        self._fds_lock = threading.Lock()

    def _fd(self) -> int:
        """This thread's descriptor of the lock file (its own open file description)."""
        fd: int | None = getattr(self._local, "fd", None)
        if fd is None:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise StoreUnavailable(f"cannot open {self.lock_path.name}: {exc}") from exc
            self._local.fd = fd
            with self._fds_lock:
                self._fds.append(fd)
        return fd

    @contextmanager
    def held(self) -> Iterator[None]:
        fd = self._fd()
        deadline = time.monotonic() + self.timeout_s
        if not self._threads.acquire(timeout=self.timeout_s):
            raise StoreUnavailable("database busy: another writer holds it")
        try:
            self._lock_file(fd, deadline)
        except BaseException:
            self._threads.release()
            raise
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            self._threads.release()

    @staticmethod
    def _lock_file(fd: int, deadline: float) -> None:
        delay = 0.0001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable("database busy: another writer holds it") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.002)

    def close(self) -> None:
        with self._fds_lock:
            fds, self._fds = self._fds, []
        for fd in fds:
            with suppress(OSError):
                os.close(fd)
        self._local = threading.local()


class Checkpointer:
    """Calls ``checkpoint`` from a background thread within CHECKPOINT_EVERY_S of a write.

    The thread starts with the first write of each process (threads do not follow a fork,
    and gunicorn forks its workers after the app is loaded).
    """

    def __init__(self, checkpoint: Callable[[], None]) -> None:
        self._checkpoint = checkpoint
        self._wrote = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def wrote(self) -> None:
        self._wrote.set()
        if self._pid != os.getpid():
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid() or self._stopping.is_set():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._loop, name="closer-sqlite-checkpoint", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(CHECKPOINT_EVERY_S):
            if self._wrote.is_set():
                self._wrote.clear()
                self._checkpoint()

    def close(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
