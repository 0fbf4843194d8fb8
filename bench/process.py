"""Peak memory of a child process, measured so that the benchmark's own memory is not in it.

Linux gives a child that was forked (or vforked, as subprocess does) and then exec'd the
parent's high-water mark as its starting ru_maxrss: measured straight from a benchmark that
has loaded recognizers or voices, a small child reads as big as the benchmark (a 13 MB
Python process read 613 MB from a parent holding 600 MB). So the command runs under a small
launcher, and the launcher reports its child's rusage.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "sys.stderr.write(f'\\n{usage.ru_maxrss}\\n')\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


@dataclass(frozen=True)
class Measured:
    returncode: int
    rss_mb: float  # peak resident memory of the command's process (ru_maxrss)
    seconds: float  # wall time
    stdout: str
    stderr: str


def run_measured(cmd: list[str], *, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> Measured:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, *cmd], cwd=cwd, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    stderr, _, rss_kb = done.stderr.rstrip("\n").rpartition("\n")
    return Measured(done.returncode, int(rss_kb) / 1024, seconds, done.stdout, stderr)
