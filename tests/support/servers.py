"""`closer serve` as a real process: it binds a free port itself (``--port 0``) and says which
on stdout, so a test never guesses a port or polls for one."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import listening_server

CLOSER = str(Path(sys.executable).with_name("closer"))


@contextmanager
def closer_serve(*args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
                 timeout_s: float = 90) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start ``[PREFIX] closer serve --port 0 ARGS``; yields its base URL once it listens."""
    command = [*prefix, CLOSER, "serve", "--port", "0", *args]
    with (tempfile.TemporaryDirectory(prefix="closer-serve-") as logs,
          listening_server(command, env={**os.environ, **(env or {})},
                           log=Path(logs) / "serve.log", timeout_s=timeout_s) as running):
        yield running
