"""Text to speech for the local speaker: the skill's SSML spoken by one of two engines behind
one interface (speech.tts.voice.Engine): a Piper neural voice when one is installed
(speech.tts.piper_engine), else espeak-ng through pyttsx3 (speech.tts.pyttsx3_engine).

``open_voice()`` picks and loads the voice (once per process) and says which in one line;
``Voice.render(ssml)`` streams the answer a sentence at a time, with pauses as exact silence
and the chime for the skill's bell (speech.tts.ssml); ``Voice.say`` plays it as it comes,
``Voice.write`` writes one WAV. Importing this package loads no engine.
"""

from speech.tts.audio import (
    CHIME_PATH,
    RATE,
    NoSoundDevice,
    check_output,
    play,
    play_stream,
    read_wav,
    write_wav,
)
from speech.tts.piper_engine import PiperEngine, PiperFiles, VoiceUnavailable
from speech.tts.pyttsx3_engine import Pyttsx3Engine, SpeechUnavailable
from speech.tts.ssml import BadSsml, Chime, Part, Pause, Speech, parse_ssml, parse_strict, readable
from speech.tts.voice import Chunk, Engine, Rendering, Timing, Voice, joined
from speech.tts.voices import PYTTSX3, VoiceNotFound, VoiceSearch, find_voice, open_voice

__all__ = [
    "CHIME_PATH", "PYTTSX3", "RATE", "BadSsml", "Chime", "Chunk", "Engine", "NoSoundDevice",
    "Part", "Pause", "PiperEngine", "PiperFiles", "Pyttsx3Engine", "Rendering", "Speech",
    "SpeechUnavailable", "Timing", "Voice", "VoiceNotFound", "VoiceSearch", "VoiceUnavailable",
    "check_output", "find_voice", "joined", "open_voice", "parse_ssml", "parse_strict", "play",
    "play_stream", "read_wav", "readable", "write_wav",
]
