"""`closer recognize FILE.wav... [--engine vosk|pocketsphinx] [--json] [--free-text]`.

Each file is streamed into the recognizer in 20 ms chunks, as a microphone would deliver it;
`ms` is the time from the last chunk (the end of the audio) to the decision: intent and
slots, or null when the recognizer or the parser rejects the utterance as out of domain.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speech.audio import SAMPLE_RATE, SAMPLE_WIDTH, AudioError, read_wav

if TYPE_CHECKING:
    from speech.grammar import Grammar
    from speech.stt import Recognizer, Transcript

CHUNK_MS = 20
FREE_TURN = "ShareAppreciationIntent.appreciation"


def decide(grammar: Grammar, transcript: Transcript, *, expecting: str | None = None) -> dict:
    """Transcript -> {"text", "intent", "slots"}; intent None when rejected or not understood."""
    out: dict[str, Any] = {"text": transcript.text, "intent": None, "slots": {}}
    if not transcript.text:
        return out
    free = expecting is not None
    if transcript.rejected and not free:
        return out
    parse = grammar.parse(transcript.text, expecting=expecting)
    if parse is None or parse.intent == "AMAZON.FallbackIntent":
        return out
    if not free and parse.intent in grammar.language.free_text_intents():
        # Free text is heard only when it was asked for: unasked, an open transcript of a
        # few words ("thanks for the tea" heard as "thanks for thirty") is no request.
        return out
    out["intent"], out["slots"] = parse.intent, parse.values()
    return out


def understand(recognizer: Recognizer, grammar: Grammar, pcm: bytes, *,
               expecting: str | None = None) -> dict:
    """{"text", "intent", "slots", "ms"}: pcm streamed in as if live; ms = end of audio to
    decision."""
    stream = recognizer.start(free_text=expecting is not None)
    step = SAMPLE_RATE * CHUNK_MS // 1000 * SAMPLE_WIDTH
    for i in range(0, len(pcm), step):
        stream.feed(pcm[i:i + step])
    ended = time.perf_counter()
    out = decide(grammar, stream.finish(), expecting=expecting)
    out["ms"] = round((time.perf_counter() - ended) * 1000, 1)
    return out


def _line(path: str, out: dict, as_json: bool) -> str:
    if as_json:
        return json.dumps({"file": path, "text": out["text"], "intent": out["intent"],
                           "slots": out["slots"], "ms": out["ms"]})
    slots = " ".join(f"{k}={v}" for k, v in sorted(out["slots"].items()))
    intent = out["intent"] or "(rejected)"
    return f"{path}: {intent} {slots}".rstrip() + f"  \"{out['text']}\"  {out['ms']:.0f} ms"


def main(args: argparse.Namespace, vosk_model: Path | None = None) -> int:
    from speech.grammar import default_grammar
    from speech.pronounce import PronunciationError
    from speech.stt import EngineUnavailable, open_recognizer

    grammar = default_grammar()
    try:
        recognizer = open_recognizer(args.engine, grammar, vosk_model)
    except (EngineUnavailable, PronunciationError) as error:
        print(f"closer recognize: {error}", file=sys.stderr)
        return 1
    expecting = FREE_TURN if args.free_text else None
    status = 0
    for path in args.files:
        try:
            pcm = read_wav(Path(path))
        except AudioError as error:
            print(f"closer recognize: {path}: {error}", file=sys.stderr)
            status = 1
            continue
        if not pcm:
            print(f"closer recognize: {path}: the recording is empty", file=sys.stderr)
            status = 1
            continue
        out = understand(recognizer, grammar, pcm, expecting=expecting)
        print(_line(path, out, args.json), flush=True)
    return status
