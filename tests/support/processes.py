"""Servers the tests start as real processes on loopback: a free port, waiting until one
answers, stopping it."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen, timeout_s: float = 60,
                  context: ssl.SSLContext | None = None) -> None:
    """Poll ``url`` until it answers 200; fail at once if ``proc`` exits."""
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
