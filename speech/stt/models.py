"""Where the Vosk model lives, and `closer model fetch` to install the small English one.

A model directory is found at CLOSER_VOSK_MODEL, else in the user cache
(platformdirs: ~/.cache/closer-together/vosk-model on Linux). `fetch` downloads the zip,
checks its size and SHA-256 while streaming, unpacks it into a temporary directory beside
the destination and renames it into place only when everything checked out, so an
interrupted, truncated or tampered download never leaves a half model behind.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import platformdirs

from speech import fetching
from speech.fetching import Download, FetchError

# alphacephei.com publishes no checksum. These are the size and SHA-256 of the official
# archive as independently recorded by several projects that pin it (they agree); see the
# README. A mirror passed with --url is held to the same digest unless --sha256 overrides.
SMALL_EN_URL = "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
SMALL_EN_SHA256 = "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
SMALL_EN_BYTES = 41_205_931
_REQUIRED = ("am/final.mdl", "conf/model.conf")


def default_dir() -> Path:
    return Path(platformdirs.user_cache_dir("closer-together")) / "vosk-model"


def is_model(path: Path) -> bool:
    return all((path / part).is_file() for part in _REQUIRED)


def find_model(configured: Path | None = None) -> Path | None:
    """The Vosk model to use: the configured directory (CLOSER_VOSK_MODEL) if any and
    valid, else the user cache."""
    if configured is not None:
        return configured if is_model(configured) else None
    path = default_dir()
    return path if is_model(path) else None


def fetch(download: Download, dest: Path, *, progress: bool = False) -> Path:
    """Download, verify and atomically install a model zip into dest. Returns dest."""
    dest = dest.expanduser().resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".closer-model-", dir=dest.parent) as tmp:
        archive = Path(tmp) / "model.zip"
        fetching.download(download, archive, progress=progress)
        unpacked = Path(tmp) / "model"
        _unpack(archive, unpacked)
        fetching.install(unpacked, dest, Path(tmp))
    return dest


def _unpack(archive: Path, target: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                parts = PurePosixPath(name).parts
                if name.startswith("/") or ".." in parts:
                    raise FetchError(f"unsafe path in archive: {name!r}")
            z.extractall(target)
    except zipfile.BadZipFile as error:
        raise FetchError(f"not a valid zip archive: {error}") from error
    root = _model_root(target)
    if root is None:
        raise FetchError("the archive holds no Vosk model (am/final.mdl, conf/model.conf)")
    if root != target:
        holder = target.with_name("root")
        root.rename(holder)
        shutil.rmtree(target)
        holder.rename(target)


def _model_root(path: Path) -> Path | None:
    """The archive's model directory: itself, or its single top-level folder."""
    if is_model(path):
        return path
    children = [c for c in path.iterdir() if c.is_dir()]
    if len(children) == 1 and is_model(children[0]):
        return children[0]
    return None


def fetch_main(args: argparse.Namespace, configured: Path | None = None) -> int:
    """`closer model fetch`; ``configured``: the CLOSER_VOSK_MODEL directory, if set."""
    url = args.url or SMALL_EN_URL
    sha = args.sha256 or SMALL_EN_SHA256
    size = SMALL_EN_BYTES if sha.lower() == SMALL_EN_SHA256 else None
    dest = Path(args.dest) if args.dest else (configured or default_dir())
    print(f"Downloading {url}", file=sys.stderr)
    try:
        where = fetch(Download(url, sha, size), dest, progress=sys.stderr.isatty())
    except FetchError as error:
        print(f"closer model fetch: {error}; nothing was installed", file=sys.stderr)
        return 1
    print(f"Vosk model installed in {where}")
    if configured is None and where != default_dir():
        print(f"Set CLOSER_VOSK_MODEL={where} to use it.")
    return 0
