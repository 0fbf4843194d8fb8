"""pip-audit over every hash-pinned lock in locks/, against PyPI's vulnerability data
(`make audit`; `make test` runs it before pytest).

PyPI answers for each pinned release (https://pypi.org/pypi/NAME/VERSION/json). When it
does, a known vulnerability fails the audit, shown in pip-audit's table, unless
locks/audit-allow.txt accepts it until a date with a reason; a release PyPI cannot answer
for fails it too (--strict), so nothing goes unaudited in silence. When PyPI cannot be
reached (offline, or a mirror or proxy without that API), one line says the audit was
skipped and why, and the exit status is 0; --require-network makes that a failure.

    python deploy/audit_locks.py [--require-network]
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "locks"
LOCK_FILES = ("bootstrap.txt", "uv.txt", "run.txt", "test.txt", "serve.txt")
ALLOW_LIST = LOCKS / "audit-allow.txt"
RELEASE_URL = "https://pypi.org/pypi/{name}/{version}/json"
PROBE_TIMEOUT_S = 10


class AuditError(Exception):
    """What stops the audit before pip-audit runs (a bad allow-list or lock)."""


@dataclass(frozen=True)
class Accepted:
    """A vulnerability `make test` lets pass until a date, and why."""

    vuln_id: str
    until: datetime.date
    reason: str


def read_allow_list(path: Path, today: datetime.date) -> list[Accepted]:
    """Lines `ID YYYY-MM-DD reason` (accepted until that date); '#' starts a comment line.
    A malformed line or a date that has passed stops the audit."""
    accepted = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path.name}:{number}"
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise AuditError(f"{where}: want 'ID YYYY-MM-DD reason', got {line.strip()!r}")
        vuln_id, until_text, reason = parts
        try:
            until = datetime.date.fromisoformat(until_text)
        except ValueError:
            raise AuditError(f"{where}: {until_text!r} is not a date (YYYY-MM-DD)") from None
        if until < today:
            raise AuditError(f"{where}: {vuln_id} was accepted until {until}; look at it again "
                             "(upgrade the pin, or give a new date and reason)")
        accepted.append(Accepted(vuln_id, until, reason.strip()))
    return accepted


def probe_url(bootstrap_lock: Path) -> str:
    """PyPI's vulnerability data for the pinned pip: a release that certainly exists."""
    found = re.search(r"^pip==(\S+)", bootstrap_lock.read_text(), re.MULTILINE)
    if found is None:
        raise AuditError(f"{bootstrap_lock.name} pins no pip")
    return RELEASE_URL.format(name="pip", version=found.group(1))


def unreachable_reason(url: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when the URL answers; otherwise why it does not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read(1)
    except urllib.error.HTTPError as error:
        return f"{url} answered HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"{url} cannot be reached ({getattr(error, 'reason', error)})"
    return None


def pip_audit_command(locks: list[Path], accepted: list[Accepted]) -> list[str]:
    command = [sys.executable, "-m", "pip_audit", "--vulnerability-service", "pypi",
               "--disable-pip", "--require-hashes", "--strict", "--progress-spinner", "off"]
    for lock in locks:
        command += ["-r", str(lock)]
    for entry in accepted:
        command += ["--ignore-vuln", entry.vuln_id]
    return command


def audit(allow_list: Path, probe: str | None, require_network: bool) -> int:
    accepted = read_allow_list(allow_list, datetime.date.today())
    locks = [LOCKS / name for name in LOCK_FILES]
    why_not = unreachable_reason(probe or probe_url(LOCKS / "bootstrap.txt"))
    if why_not is not None:
        verdict = "failed" if require_network else "skipped"
        print(f"audit {verdict}: PyPI's vulnerability data is out of reach ({why_not}); "
              f"the locks were not checked for known vulnerabilities", flush=True)
        return 1 if require_network else 0
    for entry in accepted:
        print(f"audit: accepting {entry.vuln_id} until {entry.until}: {entry.reason}")
    print(f"audit: {len(locks)} locks against PyPI's vulnerability data", flush=True)
    done = subprocess.run(pip_audit_command(locks, accepted), cwd=ROOT)
    if done.returncode != 0:
        print("audit failed: see above. Upgrade the pin (`make lock UPGRADE=name`, then the "
              "tests), or accept it in locks/audit-allow.txt with a date and a reason.")
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--require-network", action="store_true",
                        help="fail, rather than skip, when PyPI cannot be reached")
    parser.add_argument("--allow-list", type=Path, default=ALLOW_LIST, help=argparse.SUPPRESS)
    parser.add_argument("--probe-url", help=argparse.SUPPRESS)  # tests: an unreachable PyPI
    args = parser.parse_args(argv)
    try:
        return audit(args.allow_list, args.probe_url, args.require_network)
    except AuditError as error:
        print(f"audit failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
