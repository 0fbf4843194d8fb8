"""`closer recognize` as DESIGN.md specifies it, run as a user runs it: one JSON object per
file and line, intent null for speech that is not for us, slots resolved, a decision time;
a readable line without --json; bad files reported without stopping the others."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.system,
              pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")]

ROOT = Path(__file__).resolve().parent.parent
CLOSER = str(Path(sys.executable).parent / "closer")


def espeak(text: str, path: Path) -> str:
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True)
    return str(path)


def recognize(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLOSER, "recognize", "--engine", "pocketsphinx", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_json_lines_for_a_command_and_for_speech_that_is_not_ours(tmp_path: Path) -> None:
    fun = espeak("give us a fun question", tmp_path / "fun.wav")
    lights = espeak("turn off the kitchen lights", tmp_path / "lights.wav")
    proc = recognize("--json", fun, lights)
    assert proc.returncode == 0, proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert list(first) == ["file", "text", "intent", "slots", "ms"]
    assert first["file"] == fun and first["intent"] == "QuestionIntent"
    assert first["slots"] == {"category": "fun"} and first["text"]
    assert second["file"] == lights and second["intent"] is None and second["slots"] == {}
    assert all(isinstance(o["ms"], float) and o["ms"] >= 0 for o in (first, second))


def test_free_text_turn_and_plain_output(tmp_path: Path) -> None:
    said = espeak("i loved our walk in the park", tmp_path / "walk.wav")
    proc = recognize("--free-text", said)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith(f"{said}: ShareAppreciationIntent appreciation=") and "ms" in line


def test_a_bad_file_is_reported_and_the_rest_still_recognized(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    good = espeak("stop", tmp_path / "stop.wav")
    proc = recognize("--json", str(bad), good)
    assert proc.returncode == 1
    assert "bad.wav" in proc.stderr and "RIFF" in proc.stderr
    assert json.loads(proc.stdout)["intent"] == "AMAZON.StopIntent"


def test_an_empty_or_missing_wav_is_one_line_and_a_failing_exit(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>\x00\x00"
                      b"\x00}\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")  # a header, no audio
    missing = tmp_path / "missing.wav"
    proc = recognize("--json", str(empty), str(missing))
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"closer recognize: {empty}: the WAV file holds no audio",
                     f"closer recognize: {missing}: no such file"]
