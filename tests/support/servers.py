"""`closer serve` as a real process: it binds a free port itself (``--port 0``) and says which
on stdout, so a test never guesses a port or polls for one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import stop

CLOSER = str(Path(sys.executable).with_name("closer"))
_LISTENING = re.compile(r"listening on (http://\S+)/alexa")


@contextmanager
def closer_serve(*args: str, env: dict[str, str] | None = None,
                 timeout_s: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start ``closer serve --port 0 ARGS``; yields its base URL once it listens."""
    server = subprocess.Popen([CLOSER, "serve", "--port", "0", *args],
                              env={**os.environ, **(env or {})}, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        yield _wait_for_url(server, timeout_s), server
    finally:
        stop(server)


def _wait_for_url(server: subprocess.Popen, timeout_s: float) -> str:
    assert server.stdout is not None
    for line in server.stdout:  # blocks until the server prints, or exits
        found = _LISTENING.search(line)
        if found:
            return found.group(1)
    raise AssertionError(f"closer serve exited with {server.wait(timeout_s)} before listening")
