"""`closer say "TEXT or <speak>SSML</speak>"`: speak it (or write it) as the local speaker would.

Plain text is spoken as written; SSML must be well-formed (the speaker itself forgives a
webhook's broken markup, but here a typo should be shown, not spoken). ``--out FILE.wav``
writes the audio instead of playing it and refuses an existing file unless ``--force``; the
file appears whole or not at all. ``--json`` prints one line: the voice, the engine, the
audio's seconds, ``first_audio_ms`` (from the call to the first sentence's audio being
ready) and ``ms`` (to all of it being ready). The voice loads before the clock starts, as in
the speaker, which loads it once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

from speech.tts import (
    BadSsml,
    NoSoundDevice,
    SpeechUnavailable,
    Timing,
    Voice,
    VoiceNotFound,
    VoiceUnavailable,
    check_output,
    joined,
    open_voice,
    parse_strict,
    play_stream,
    write_wav,
)


class SayError(RuntimeError):
    """Bad input for `closer say`: one line for the user."""


def as_ssml(text: str) -> str:
    """The SSML for what was typed: plain text escaped, SSML checked; SayError otherwise."""
    if not text.strip():
        raise SayError("nothing to say (give some text or <speak>SSML</speak>)")
    ssml = text if text.lstrip().startswith("<speak") else f"<speak>{escape(text)}</speak>"
    try:
        parse_strict(ssml)
    except BadSsml as error:
        raise SayError(str(error)) from error
    return ssml


def speak(voice: Voice, ssml: str, out: Path | None) -> Timing:
    """Play the answer, or write it to ``out`` (a file that can be written); when its audio
    was ready."""
    timing = Timing()
    chunks = timing.watch(chunk.samples for chunk in voice.render(ssml))
    if out is None:
        play_stream(chunks)
    else:
        write_wav(out, joined(chunks))
    return timing


def _check_out(out: Path, force: bool) -> None:
    if out.is_dir():
        raise SayError(f"{out} is a directory; give a file name such as {out / 'said.wav'}")
    if out.exists() and not force:
        raise SayError(f"{out} already exists; pass --force to replace it")
    if not out.parent.is_dir():
        raise SayError(f"cannot write {out}: the folder {out.parent} does not exist")


@contextmanager
def _whole_file(out: Path | None) -> Iterator[Path | None]:
    """A temporary file beside ``out``, made before any work (so an unwritable place fails
    at once) and renamed to ``out`` when written: never a half-written WAV under its name."""
    if out is None:
        yield None
        return
    try:
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as error:
        raise SayError(f"cannot write {out}: {error.strerror or error}") from error
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)


def main(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    try:
        ssml = as_ssml(args.text)
        if out is not None:
            _check_out(out, args.force)
        else:
            check_output()
        with _whole_file(out) as target:
            voice, notice = open_voice(args.voice)
            if voice.engine.name == "pyttsx3" and args.voice is None:  # no Piper voice found
                print(f"closer say: {notice}", file=sys.stderr)
            timing = speak(voice, ssml, target)
    except (SayError, NoSoundDevice, VoiceNotFound, VoiceUnavailable,
            SpeechUnavailable) as error:
        print(f"closer say: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the disk filled up, or the folder went away, while writing
        print(f"closer say: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    seconds = round(timing.seconds, 3)
    if args.json:
        print(json.dumps({"voice": voice.name, "engine": voice.engine.name, "seconds": seconds,
                          "first_audio_ms": timing.ms(timing.first), "ms": timing.ms(timing.done)}))
    else:
        did = f"wrote {out}" if out is not None else "spoke"
        print(f"{did}: {seconds:.2f} s, {voice.name} ({voice.engine.name}), first audio after "
              f"{timing.ms(timing.first) or 0:.0f} ms")
    return 0
