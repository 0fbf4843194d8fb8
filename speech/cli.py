"""The local speaker's commands: `closer recognize`, `closer chat`, `closer speaker`,
`closer say`, `closer model fetch`, `closer voice fetch`. Arguments are parsed here; the work
lives in the speech modules, imported only when their command runs (so `closer serve` never
loads a recognizer or a voice)."""

from __future__ import annotations

import argparse

ENGINES = ("vosk", "pocketsphinx")
VOICE_HELP = ("a Piper voice by name or path (.onnx, or its folder), or pyttsx3 for espeak-ng; "
              "default: the first Piper voice installed, else espeak-ng")


def _recognize(args: argparse.Namespace) -> int:
    from speech.recognize import main

    return main(args)


def _chat(args: argparse.Namespace) -> int:
    from speech.device import chat_main

    return chat_main(args)


def _speaker(args: argparse.Namespace) -> int:
    from speech.device import speaker_main

    return speaker_main(args)


def _model_fetch(args: argparse.Namespace) -> int:
    from speech.stt.models import fetch_main

    return fetch_main(args)


def _say(args: argparse.Namespace) -> int:
    from speech.say import main

    return main(args)


def _voice_fetch(args: argparse.Namespace) -> int:
    from speech.tts.voices import fetch_main

    return fetch_main(args)


def register(commands: argparse._SubParsersAction) -> None:
    """Add the speech commands to the `closer` parser."""
    rec = commands.add_parser("recognize", help="recognize WAV files: text, intent and slots")
    rec.add_argument("files", nargs="+", metavar="FILE.wav")
    rec.add_argument("--engine", choices=ENGINES, default=None,
                     help="default: Vosk if a model is installed, else PocketSphinx")
    rec.add_argument("--json", action="store_true", help="one JSON object per line")
    rec.add_argument("--free-text", action="store_true",
                     help="decode as a free-text turn (an appreciation) instead of a command")
    rec.set_defaults(func=_recognize)

    chat = commands.add_parser("chat", help="talk to the skill by typing, as the speaker hears")
    chat.add_argument("--endpoint", default=None, help="a webhook URL instead of in-process")
    chat.set_defaults(func=_chat)

    spk = commands.add_parser("speaker", help="the offline local speaker (microphone or --wav)")
    spk.add_argument("--engine", choices=ENGINES, default=None)
    spk.add_argument("--endpoint", default=None,
                     help="invoke a webhook (e.g. http://127.0.0.1:8080/alexa) instead of "
                          "the skill in process")
    spk.add_argument("--wav", nargs="+", default=None, metavar="FILE",
                     help="play these recorded turns instead of listening to a microphone")
    spk.add_argument("--out", default=None, metavar="DIR",
                     help="write what the speaker says as WAV files instead of playing them")
    spk.add_argument("--voice", default=None, metavar="NAME|PATH", help=VOICE_HELP)
    spk.set_defaults(func=_speaker)

    say = commands.add_parser("say", help="speak text or SSML as the local speaker would")
    say.add_argument("text", metavar="TEXT", help='words, or "<speak>SSML</speak>"')
    say.add_argument("--voice", default=None, metavar="NAME|PATH", help=VOICE_HELP)
    say.add_argument("--out", default=None, metavar="FILE.wav",
                     help="write a WAV file instead of playing it")
    say.add_argument("--force", action="store_true", help="replace an existing --out file")
    say.add_argument("--json", action="store_true",
                     help='one line: {"voice", "engine", "seconds", "first_audio_ms", "ms"}')
    say.set_defaults(func=_say)

    model = commands.add_parser("model", help="manage the Vosk speech model")
    model_commands = model.add_subparsers(dest="model_command", required=True)
    fetch = model_commands.add_parser("fetch", help="download and check the small English model")
    fetch.add_argument("--url", default=None, help="download from here instead (a mirror)")
    fetch.add_argument("--sha256", default=None, help="expected SHA-256 of the download")
    fetch.add_argument("--dest", default=None, help="install into this directory")
    fetch.set_defaults(func=_model_fetch)

    voice = commands.add_parser("voice", help="manage Piper voices")
    voice_commands = voice.add_subparsers(dest="voice_command", required=True)
    vfetch = voice_commands.add_parser("fetch", help="download and check an official Piper voice")
    vfetch.add_argument("name", nargs="?", default="en_US-joe-medium", metavar="NAME",
                        help="en_US-joe-medium (default), en_US-kristin-medium, "
                             "en_US-norman-medium, en_GB-cori-medium, or another with --url")
    vfetch.add_argument("--url", default=None, help="the .onnx from here instead (a mirror); "
                                                    "its settings from the same URL + .json")
    vfetch.add_argument("--sha256", default=None, help="expected SHA-256 of the .onnx")
    vfetch.add_argument("--config-sha256", default=None,
                        help="expected SHA-256 of the .onnx.json")
    vfetch.add_argument("--dest", default=None, help="install into this directory")
    vfetch.set_defaults(func=_voice_fetch)
