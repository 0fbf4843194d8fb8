"""Servers the tests start as real processes on loopback.

Our own servers (`closer serve`, gunicorn) bind port 0 and say where they listen; the test
waits for that line, not for a port to answer. Third-party proxies (Caddy, nginx) cannot say
so: they get a port picked just before they start, and a start that loses that port to
another process is tried again on a new one.
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# What `closer serve` prints, and what gunicorn logs, once the port is bound.
LISTENING = re.compile(r"(?:listening on|Listening at:) (http://[\d.:\[\]a-z]+)")


@contextmanager
def listening_server(command: list[str], *, env: dict[str, str], log: Path,
                     cwd: Path | None = None,
                     timeout_s: float = 90) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start ``command`` (which binds port 0 and says where, on stdout or stderr); yield its
    base URL as soon as it says so. Its stderr goes to ``log``, its stdout beside it."""
    proc = subprocess.Popen(command, env=env, cwd=cwd, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    found: list[str] = []
    said = threading.Event()
    followers = [threading.Thread(target=_follow, args=(stream, path, found, said), daemon=True)
                 for stream, path in ((proc.stdout, log.with_suffix(".stdout")),
                                      (proc.stderr, log))]
    for follower in followers:
        follower.start()
    try:
        assert said.wait(timeout_s), f"{command[0]} said nothing in {timeout_s} s"
        assert found, f"{command[0]} exited ({proc.wait()}) before listening: {log}"
        yield found[0], proc
    finally:
        stop(proc)
        for follower in followers:
            follower.join(5)


def _follow(stream: object, path: Path, found: list[str], said: threading.Event) -> None:
    """Copy a stream to a file, noting the first "listening" line; set ``said`` then, or
    when the stream ends (the process is gone)."""
    with path.open("a") as out:
        for line in stream:  # type: ignore[attr-defined]
            out.write(line)
            out.flush()
            match = LISTENING.search(line)
            if match and not found:
                found.append(match.group(1).rstrip("/"))
                said.set()
    said.set()


def free_port() -> int:
    """A port free now, for a third-party server that cannot report its own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen, timeout_s: float = 60,
                  context: ssl.SSLContext | None = None) -> None:
    """Poll ``url`` until it answers 200 (for servers that cannot say they are ready);
    fail at once if ``proc`` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1, context=context) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        assert proc.poll() is None, f"{proc.args[0]} exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{url} did not come up"
        time.sleep(0.2)


def stop(proc: subprocess.Popen, timeout_s: float = 20) -> None:
    """SIGTERM, then SIGKILL if it will not go."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
