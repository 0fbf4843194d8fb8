"""The recorded utterance fixtures (tests/fixtures/utterances): the manifest, running clips
through the real speech path, and scoring what came out against what the person meant.
Shared by tests/test_utterances.py and bench/speech.py."""

from __future__ import annotations

import importlib
import json
import os
import pickle
import re
import subprocess
import sys
import time
import wave
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "utterances"
MANIFEST = FIXTURES / "manifest.jsonl"
MODEL = ROOT / "interaction_models" / "en-US.json"
FREE_TURN = "ShareAppreciationIntent.appreciation"
# A free-text slot (an appreciation) counts as right when at most this share of its words
# is wrong: the journal reads it back, and a word or two off still says what was meant.
MAX_FREE_TEXT_WER = 0.35
# The skill answers FallbackIntent with "I didn't catch that": not an action, so for
# out-of-domain speech it counts as a rejection, like null.
REJECTIONS = (None, "AMAZON.FallbackIntent")


@dataclass(frozen=True)
class Clip:
    file: str
    text: str
    intent: str | None
    slots: dict[str, str]
    voice: str
    rate: float
    pitch: float
    condition: str
    turn: str
    noise: str | None = None
    snr_db: float | None = None
    lead_s: float = 0.0
    trail_s: float = 0.0
    kind: str = "in_domain"
    batch: int = 1  # 2: written after batch 1's misses were copied into the model; 3: Piper
    synthesis: dict[str, float] | None = None  # Piper's length_scale, noise_scale, noise_w
    wake: bool = False  # starts with the wake phrase, as said to an idle speaker
    split: str = "dev"  # "dev": the decision is fitted on it; "test": held out

    @property
    def path(self) -> Path:
        return FIXTURES / self.file

    @property
    def name(self) -> str:
        return Path(self.file).stem

    @property
    def in_domain(self) -> bool:
        return self.intent is not None

    def pcm(self) -> bytes:
        with wave.open(str(self.path)) as w:
            return w.readframes(w.getnframes())

    def seconds(self) -> float:
        with wave.open(str(self.path)) as w:
            return w.getnframes() / w.getframerate()


@dataclass
class Heard:
    text: str
    intent: str | None
    slots: dict[str, str] = field(default_factory=dict)
    ms: float | None = None  # end of audio -> decision, as `closer recognize` reports it
    wall_ms: float | None = None  # whole clip in -> decision out, measured here


_DURATION_WORDS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    "hundred", "a", "an", "and", "half", "second", "seconds", "minute", "minutes", "hour",
    "hours",
)


def _slot_pattern(slot_type: str, types: dict[str, list[str]]) -> str:
    """What a slot can hold, so "{category} question" matches "a deep question" but not
    "we're bored give us a question"."""
    if slot_type in types:
        return "(?:" + "|".join(re.escape(v) for v in sorted(types[slot_type], key=len,
                                                               reverse=True)) + ")"
    if slot_type == "AMAZON.DURATION":
        return "(?:" + "|".join(_DURATION_WORDS) + r")(?: (?:" + "|".join(_DURATION_WORDS) + "))*"
    if slot_type == "AMAZON.FirstName":
        return "[a-z]+"
    return ".+"


@cache
def _sample_patterns() -> tuple[re.Pattern[str], ...]:
    model = json.loads(MODEL.read_text())["interactionModel"]["languageModel"]
    types = {t["name"]: [w for v in t["values"]
                         for w in (v["name"]["value"], *v["name"].get("synonyms", []))]
             for t in model.get("types", [])}
    patterns = []
    for intent in model["intents"]:
        slots = {s["name"]: s["type"] for s in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            regex = re.sub(r"\\\{(\w+)\\\}",
                           lambda m, slots=slots: _slot_pattern(slots[m.group(1)], types),
                           re.escape(sample))
            patterns.append(re.compile(f"^{regex}$"))
    return tuple(patterns)


def is_model_sample(text: str) -> bool:
    """Whether the interaction model (as it is now) has this phrasing as a sample."""
    return any(p.match(text) for p in _sample_patterns())


def load_manifest(path: Path = MANIFEST) -> list[Clip]:
    return [Clip(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------- scoring


def iso_seconds(value: str) -> float | None:
    """PT1M30S -> 90.0; None when it is no ISO-8601 duration."""
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", value or "")
    if not m or value in ("P", "PT"):
        return None
    d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return d * 86400 + h * 3600 + mi * 60 + s


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def wer(expected: str, got: str) -> float:
    """Word error rate: edits needed to turn `got` into `expected`, per expected word."""
    ref, hyp = words(expected), words(got)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


def slot_matches(name: str, expected: str, got: str | None) -> bool:
    if got is None:
        return False
    if name == "duration":
        return iso_seconds(expected) == iso_seconds(got)
    if name == "appreciation":
        return wer(expected, got) <= MAX_FREE_TEXT_WER
    return expected == got.lower()


def correct(clip: Clip, heard: Heard) -> bool:
    if not clip.in_domain:
        return heard.intent in REJECTIONS
    if heard.intent != clip.intent:
        return False
    got = {k: v for k, v in (heard.slots or {}).items() if v not in (None, "")}
    if set(got) != set(clip.slots):
        return False
    return all(slot_matches(k, v, got.get(k)) for k, v in clip.slots.items())


def _fmt(intent: str | None, slots: dict[str, str]) -> str:
    name = (intent or "null").removeprefix("AMAZON.")
    inner = ", ".join(f"{k}={v}" for k, v in sorted((slots or {}).items()))
    return f"{name}({inner})" if inner else name


def miss_table(pairs: Iterable[tuple[Clip, Heard]]) -> str:
    """A readable table of the clips that came out wrong."""
    rows = [(c.name, c.condition, _fmt(c.intent, c.slots), _fmt(h.intent, h.slots), h.text)
            for c, h in pairs if not correct(c, h)]
    head = ("file", "cond", "expected", "got", "heard")
    widths = [min(64, max(len(str(r[i])) for r in [head, *rows])) for i in range(4)]
    lines = ["  ".join(str(v)[:w].ljust(w) for v, w in zip(r[:4], widths, strict=True))
             + f"  {r[4]!r}" for r in [head, *rows]]
    return "\n".join(lines)


# ---------------------------------------------------------------- running the speech path


class SpeechPathMissing(RuntimeError):
    """The recognizer or parser this needs has not landed (or cannot load)."""


class InProcess:
    """The public API of speech/stt + speech/grammar + speech/recognize.py, in this process."""

    def __init__(self, engine: str = "pocketsphinx") -> None:
        try:
            grammar = importlib.import_module("speech.grammar")
            stt = importlib.import_module("speech.stt")
            recognize = importlib.import_module("speech.recognize")
            self.grammar = grammar.default_grammar()
            self._understand = recognize.understand
        except (ImportError, AttributeError) as exc:
            raise SpeechPathMissing(f"speech path not importable yet: {exc}") from exc
        unavailable = getattr(stt, "EngineUnavailable", ())
        try:
            self.recognizer = stt.open_recognizer(engine, self.grammar)
        except unavailable as exc:
            raise SpeechPathMissing(f"{engine} cannot run here: {exc}") from exc

    def hear(self, clip: Clip) -> Heard:
        expecting = FREE_TURN if clip.turn == "free" else None
        pcm = clip.pcm()
        start = time.perf_counter()
        out = self._understand(self.recognizer, self.grammar, pcm, expecting=expecting)
        wall = (time.perf_counter() - start) * 1000
        return Heard(out.get("text", ""), out.get("intent"), dict(out.get("slots") or {}),
                     out.get("ms"), wall)


def hear_alone(path: InProcess, clips: list[Clip]) -> dict[str, Heard]:
    """Each clip heard by a recognizer that has heard nothing else: a forked copy of `path`
    per clip, so `path` must not have decoded anything yet. (Making a recognizer per clip
    would cost two seconds each; a fork costs milliseconds and starts from the same state.)
    Keyed by clip file."""
    out: dict[str, Heard] = {}
    for clip in clips:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: hear one clip, send it back, leave without cleanup
            os.close(read)
            try:
                data = pickle.dumps(path.hear(clip))
            except BaseException as error:  # noqa: BLE001 - reported by the parent
                data = pickle.dumps(RuntimeError(f"{clip.file}: {error!r}"))
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
            os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            got = pickle.loads(pipe.read())
        os.waitpid(pid, 0)
        if isinstance(got, Exception):
            raise got
        out[clip.file] = got
    return out


def closer_command() -> str:
    """The installed `closer` next to this interpreter (the venv's), as the docs run it."""
    return str(Path(sys.executable).parent / "closer")


def recognize_cli(clips: list[Clip], engine: str = "pocketsphinx") -> dict[str, Heard]:
    """`closer recognize FILE... --engine E --json` as DESIGN.md specifies; free turns are
    decoded in a second call with --free-text. Keyed by clip file."""
    heard: dict[str, Heard] = {}
    for free in (False, True):
        batch = [c for c in clips if (c.turn == "free") == free]
        if not batch:
            continue
        cmd = [closer_command(), "recognize", "--engine", engine, "--json",
               *(["--free-text"] if free else []), *(str(c.path) for c in batch)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise SpeechPathMissing(f"closer recognize failed ({proc.returncode}): {last}")
        for line in proc.stdout.splitlines():
            out = json.loads(line)
            rel = Path(out["file"]).resolve().relative_to(FIXTURES).as_posix()
            heard[rel] = Heard(out.get("text", ""), out.get("intent"),
                               dict(out.get("slots") or {}), out.get("ms"))
    return heard
