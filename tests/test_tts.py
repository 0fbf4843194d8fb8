"""Text to speech: the skill's SSML becomes one WAV with sample-exact pauses and the chime."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from skill import ssml
from speech.tts import (
    CHIME_PATH,
    RATE,
    Chime,
    NoSoundDevice,
    Pause,
    Speech,
    Voice,
    parse_ssml,
    read_wav,
    readable,
)

HUG = ssml.speak(
    "Let's hug for 20 seconds. Come close, and let your shoulders drop. "
    f"Take one slow breath together. {ssml.pause(1)} Starting now. {ssml.pause(20)}"
    f"{ssml.chime()} And, time. Thank you for that hug."
)


@pytest.fixture(scope="module")
def voice() -> Voice:
    return Voice()


def _span(rendering, kind: type) -> tuple[int, int]:
    return next((start, end) for part, start, end in rendering.spans if isinstance(part, kind))


def _zero_runs(samples: np.ndarray) -> list[int]:
    """Lengths of the runs of exact digital silence."""
    padded = np.concatenate(([1], samples, [1])) != 0
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [int(end - start) for start, end in zip(edges[::2], edges[1::2], strict=True)]


def test_ssml_parts_in_order() -> None:
    assert parse_ssml(HUG) == [
        Speech("Let's hug for 20 seconds. Come close, and let your shoulders drop. "
               "Take one slow breath together."),
        Pause(1.0),
        Speech("Starting now."),
        Pause(20.0),  # two chained 10 s breaks are one 20 s pause
        Chime(ssml.END_CHIME),
        Speech("And, time. Thank you for that hug."),
    ]


def test_escaped_text_is_spoken_as_written() -> None:
    said = ssml.text('Tom & Jerry\'s "best" <day>')
    assert parse_ssml(ssml.speak(said)) == [Speech('Tom & Jerry\'s "best" <day>')]


def test_other_tags_speak_their_text() -> None:
    markup = (
        '<speak><prosody rate="slow">Slowly</prosody> <emphasis level="strong">now</emphasis>'
        '<p>A paragraph</p><s>A sentence</s><amazon:effect name="whispered">quiet</amazon:effect>'
        ' <say-as interpret-as="spell-out">abc</say-as> <sub alias="for example">e.g.</sub>'
        '<break strength="strong"/>end<audio src="https://example.com/x.mp3">fallback</audio>'
        "</speak>"
    )
    assert readable(markup) == (
        "Slowly now A paragraph. A sentence. quiet a b c for example [0.75 s pause] end [chime]"
    )


def test_malformed_ssml_still_speaks_its_words() -> None:
    assert parse_ssml("<speak>Fish &nbsp; chips <b>and</speak>") == [Speech("Fish chips and")]


def test_readable_shows_pauses_and_chime() -> None:
    assert readable(HUG).endswith(
        "Starting now. [20 s pause] [chime] And, time. Thank you for that hug."
    )
    assert "[1.5 s pause]" in readable(ssml.speak(f"a {ssml.pause(1.5)} b"))


def test_break_is_exact_silence_to_the_sample(voice: Voice) -> None:
    rendering = voice.synthesize('<speak>Hello there.<break time="2s"/>Goodbye.</speak>')
    start, end = _span(rendering, Pause)
    assert end - start == 2 * RATE
    assert not rendering.samples[start:end].any()
    assert rendering.samples[start - 1] != 0  # the speech runs right up to the break
    assert len(rendering.samples) == rendering.spans[-1][2]


@pytest.mark.parametrize(("time", "samples"), [("750ms", round(0.75 * RATE)), ("10s", 10 * RATE),
                                               ("0.5s", RATE // 2), ("1ms", 22)])
def test_break_times(voice: Voice, time: str, samples: int) -> None:
    rendering = voice.synthesize(f'<speak>One<break time="{time}"/>two</speak>')
    start, end = _span(rendering, Pause)
    assert end - start == samples


def test_hug_wav_holds_twenty_seconds_then_the_chime(voice: Voice, tmp_path: Path) -> None:
    path = tmp_path / "hug.wav"
    seconds = voice.render(HUG, path)
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2)
        frames = wav.getnframes()
        samples = np.frombuffer(wav.readframes(frames), dtype="<i2")
    assert seconds == pytest.approx(frames / RATE)
    assert seconds > 20 + 1 + 3  # the hug, the breath, and the words around them
    # The longest silence is the hug: 20 s to the sample (the chime starts at a zero crossing).
    assert 20 * RATE <= max(_zero_runs(samples)) <= 20 * RATE + 5
    rendering = voice.synthesize(HUG)
    start, end = _span(rendering, Chime)
    chime = read_wav(CHIME_PATH)
    assert np.array_equal(rendering.samples[start:end], chime)
    pause_start, pause_end = _span(rendering, Pause)
    assert pause_end - pause_start == RATE  # the first pause is the one-second breath
    hug = [(s, e) for p, s, e in rendering.spans if p == Pause(20.0)]
    assert hug == [(hug[0][0], start)]  # the chime follows the hug's silence directly


def test_words_are_not_clipped(voice: Voice) -> None:
    """Each text part renders inside a response as long as it does alone (nothing cut)."""
    text = "What's one small thing that made you smile this week?"
    alone = voice.synthesize(ssml.speak(ssml.text(text))).samples
    inside = voice.synthesize(ssml.speak(f"Here's your question. {ssml.pause(1)} {text}"))
    start, end = inside.spans[-1][1:]
    assert abs((end - start) - len(alone)) < 0.02 * len(alone)
    voiced = np.flatnonzero(np.abs(inside.samples[start:end]) > 300)
    assert voiced[0] < 0.1 * RATE  # speech begins right away
    assert np.abs(inside.samples).max() < 32767  # no clipping


def test_escaped_text_renders_as_speech(voice: Voice) -> None:
    plain = voice.synthesize(ssml.speak("Sam and Alex")).seconds
    escaped = voice.synthesize(ssml.speak(ssml.text("Sam & Alex"))).seconds
    assert escaped == pytest.approx(plain, rel=0.25)


def test_empty_speech_renders_nothing(voice: Voice, tmp_path: Path) -> None:
    assert voice.render("<speak></speak>", tmp_path / "empty.wav") == 0.0


def test_chime_is_about_a_second_and_soft() -> None:
    chime = read_wav(CHIME_PATH)
    assert 0.8 <= len(chime) / RATE <= 1.3
    assert 0.3 * 32767 < np.abs(chime).max() < 0.7 * 32767
    assert chime[0] == 0 and chime[-1] == 0  # no clicks at either end


def test_say_without_a_sound_card_says_so(voice: Voice) -> None:
    import sounddevice as sd

    try:
        sd.check_output_settings(samplerate=RATE, channels=1, dtype="int16")
    except sd.PortAudioError:
        with pytest.raises(NoSoundDevice, match="no sound output device"):
            voice.say("<speak>Hello.</speak>")
    else:
        pytest.skip("this machine has a sound card")


def test_every_response_comes_out_whole_and_at_the_set_rate(voice: Voice) -> None:
    """pyttsx3's own espeak loop lost utterances and the rate after an idle moment."""
    import time

    long = ssml.speak("Sorry, I didn't catch that. Try, give us a question, or start a hug.")
    short = ssml.speak("Try, give us a question, or start a hug.")
    expected = (voice.synthesize(long).seconds, voice.synthesize(short).seconds)
    time.sleep(0.5)  # like the recognizer working between two answers
    fresh = Voice()
    for _ in range(2):
        for speaker in (fresh, voice):
            got = (speaker.synthesize(long).seconds, speaker.synthesize(short).seconds)
            assert got == pytest.approx(expected, rel=0.02)
    assert expected[0] > expected[1] > 2
