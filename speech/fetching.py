"""Downloading a model or a voice without ever leaving half of one installed.

`download` streams a URL to a file, checking its size and SHA-256 as it goes; `install`
renames a finished directory into place, keeping an old one until the new one is there.
`closer model fetch` (speech.stt.models) and `closer voice fetch` (speech.tts.voices) build
on these two: everything lands in a temporary directory beside the destination first.
"""

from __future__ import annotations

import hashlib
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 16
_TIMEOUT_S = 60


class FetchError(RuntimeError):
    """The download is not what we asked for; nothing was installed."""


@dataclass(frozen=True)
class Download:
    url: str
    sha256: str | None  # None: not known, so not checked (say why where it is used)
    size: int | None  # expected bytes, when known


def download(download: Download, path: Path, *, progress: bool = False) -> None:
    """Write the URL's body to path; FetchError unless it has the expected size and SHA-256."""
    digest = hashlib.sha256()
    got = 0
    try:
        with urllib.request.urlopen(download.url, timeout=_TIMEOUT_S) as response, \
                path.open("wb") as out:
            announced = response.headers.get("Content-Length")
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                got += len(chunk)
                if download.size and got > download.size:
                    raise FetchError(f"download is larger than the expected {download.size} "
                                     "bytes")
                if progress:
                    print(f"\r{got / 1e6:6.1f} MB", end="", file=sys.stderr, flush=True)
            if announced is not None and got != int(announced):
                raise FetchError(f"download cut short: {got} of {announced} bytes")
    except (OSError, ValueError) as error:  # URLError, HTTPError, timeouts, a cut connection
        raise FetchError(f"download failed: {error}") from error
    finally:
        if progress:
            print(file=sys.stderr)
    if download.size is not None and got != download.size:
        raise FetchError(f"download is {got} bytes, expected {download.size} (truncated?)")
    if download.sha256 is not None and digest.hexdigest() != download.sha256.lower():
        raise FetchError(f"SHA-256 mismatch: got {digest.hexdigest()}, "
                         f"expected {download.sha256.lower()}")


def install(ready: Path, dest: Path, tmp: Path) -> None:
    """Swap the finished directory in with renames (tmp: a scratch directory on the same
    file system); an old dest is removed only once the new one is in place."""
    old = tmp / "old"
    if dest.exists():
        dest.rename(old)
    try:
        ready.rename(dest)
    except OSError:
        if old.exists():
            old.rename(dest)
        raise
