"""Every subcommand answers bad input with one clear line on stderr and a non-zero exit,
never a traceback: missing, empty, non-WAV and unsupported WAV files, an --out that would
overwrite something, Ctrl-C."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # each case runs the command as a process

CLOSER = str(Path(sys.executable).with_name("closer"))
CLIP = Path(__file__).parent / "fixtures" / "conversations" / "hug" / "01.wav"


def bad_wavs(folder: Path) -> dict[str, Path]:
    """A missing file, a text file named .wav, a WAV with no audio, and an A-law WAV."""
    text = folder / "notes.wav"
    text.write_text("not audio at all\n")
    empty = folder / "empty.wav"
    empty.write_bytes(_wav_header(format_tag=1, bits=16, data=b""))
    alaw = folder / "alaw.wav"
    alaw.write_bytes(_wav_header(format_tag=6, bits=8, data=b"\xd5" * 8000))
    return {"missing": folder / "nowhere.wav", "text": text, "empty": empty, "alaw": alaw}


def _wav_header(*, format_tag: int, bits: int, data: bytes, rate: int = 8000) -> bytes:
    block = bits // 8
    fmt = struct.pack("<HHIIHH", format_tag, 1, rate, rate * block, block, bits)
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLOSER_DB": str(tmp_path / "closer.sqlite3")}
    return subprocess.run([CLOSER, *args], capture_output=True, text=True, env=env, timeout=180)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    notices = [line for line in lines if "using PocketSphinx" not in line and "speaking with" not
               in line]
    assert len(notices) == 1 and "Traceback" not in done.stderr, done.stderr
    return notices[0]


@pytest.mark.parametrize("case", ["missing", "text", "empty", "alaw"])
def test_recognize_says_what_is_wrong_with_a_file(tmp_path: Path, case: str) -> None:
    path = bad_wavs(tmp_path)[case]
    line = one_line(run("recognize", str(path), "--engine", "pocketsphinx", tmp_path=tmp_path))
    assert line.startswith(f"closer recognize: {path}")


@pytest.mark.parametrize("case", ["missing", "text", "empty", "alaw"])
def test_the_speaker_says_what_is_wrong_with_a_recorded_turn(tmp_path: Path, case: str) -> None:
    path = bad_wavs(tmp_path)[case]
    line = one_line(run("speaker", "--engine", "pocketsphinx", "--wav", str(CLIP), str(path),
                        "--out", str(tmp_path / "said"), tmp_path=tmp_path))
    assert line.startswith(f"closer speaker: {path}")
    assert not (tmp_path / "said" / "01.wav").exists()  # nothing was half done


def test_the_speaker_never_writes_over_a_file(tmp_path: Path) -> None:
    taken = tmp_path / "answers.wav"
    taken.write_bytes(b"keep me")
    line = one_line(run("speaker", "--wav", str(CLIP), "--out", str(taken), tmp_path=tmp_path))
    assert "is a file" in line and taken.read_bytes() == b"keep me"
    folder = tmp_path / "said"
    folder.mkdir()
    (folder / "01.wav").write_bytes(b"an earlier answer")
    line = one_line(run("speaker", "--wav", str(CLIP), "--out", str(folder), tmp_path=tmp_path))
    assert "already holds answers" in line
    assert (folder / "01.wav").read_bytes() == b"an earlier answer"


def test_ctrl_c_in_chat_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "CLOSER_DB": str(tmp_path / "closer.sqlite3")}
    # As from a terminal: a test run started in the background (`make test &`) would
    # otherwise hand down SIGINT ignored, and Python then never raises KeyboardInterrupt.
    chat = subprocess.Popen([CLOSER, "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert chat.stdin is not None and chat.stdout is not None
    chat.stdin.write("give us a question\n")
    chat.stdin.flush()
    assert chat.stdout.readline().startswith("you: ")  # it is up and answering
    assert chat.stdout.readline().startswith("closer: ")
    chat.send_signal(signal.SIGINT)
    _, err = chat.communicate(timeout=60)
    assert chat.returncode == 130
    assert err.strip() == "closer chat: stopped"


def test_a_bad_setting_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run([CLOSER, "chat"], input="", capture_output=True, text=True,
                          timeout=60, env={**os.environ, "CLOSER_WORKERS": "many"})
    assert one_line(done) == "closer chat: CLOSER_WORKERS must be a whole number, not 'many'"
    done = subprocess.run([CLOSER, "chat"], input="hi\n", capture_output=True, text=True,
                          timeout=60, env={**os.environ, "CLOSER_DB": str(tmp_path / "db"),
                                           "CLOSER_DATA_KEY": "too short"})
    assert one_line(done).startswith("closer chat: CLOSER_DATA_KEY: ")


def test_a_key_rotation_from_the_command_line(tmp_path: Path) -> None:
    """README: Privacy. The old key is kept as an old key, `closer reencrypt` seals every
    value again, and then the old key can go."""
    old, new = "A" * 43 + "=", "B" * 43 + "="
    db = tmp_path / "closer.sqlite3"
    env = {**os.environ, "CLOSER_DB": str(db), "CLOSER_DATA_KEY": old}
    subprocess.run([CLOSER, "chat"], input="we are ana and jo\n", env=env, text=True,
                   capture_output=True, timeout=120, check=True)
    rotated = {**env, "CLOSER_DATA_KEY": new, "CLOSER_OLD_DATA_KEYS": old}
    done = subprocess.run([CLOSER, "reencrypt"], env=rotated, text=True, capture_output=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("2 values sealed again"), done
    talked = subprocess.run([CLOSER, "chat"], input="open closer together\n", text=True,
                            env={**env, "CLOSER_DATA_KEY": new}, capture_output=True, timeout=120)
    assert "Welcome back, Ana and Jo." in talked.stdout
    refused = subprocess.run([CLOSER, "reencrypt"], env={**env, "CLOSER_DATA_KEY": "C" * 43 + "="},
                             text=True, capture_output=True, timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
