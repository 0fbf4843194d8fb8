"""The local speaker put together: `closer chat` and `closer speaker`.

A device (speech.device) talks to the skill through a door: the skill in this process on the
configured store, or a webhook (``--endpoint URL``). The household is the configured one,
or this machine's own, kept in the store (or, with a webhook and no store here, in a small
file beside the data).
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ask_sdk_core.skill import CustomSkill

from skill.app import build_skill, data_key, invoke, open_configured_store
from skill.config import Config
from skill.envelopes import LOCAL_APPLICATION_ID
from skill.session import derive_key
from speech.device import Device, DoorError, Webhook


class InProcess:
    """The skill in this process, as a door; ``store`` is the household store it runs on
    (the speaker reads its nudges there)."""

    def __init__(self, skill: CustomSkill, store: Any = None) -> None:
        self._skill = skill
        self.store = store

    def __call__(self, envelope: dict) -> dict:
        return invoke(self._skill, envelope)


@contextmanager
def local_device(config: Config, endpoint: str | None, grammar: Any) -> Iterator[Device]:
    """A device for this machine's household, through the door ``endpoint`` names."""
    app_id = application_id(config)
    if endpoint:
        household = config.household_id or _household_file(config.db_path.parent)
        device = Device(Webhook(endpoint), household, grammar, app_id=app_id)
        try:
            yield device
        finally:
            device.end()
        return
    key = data_key(config)
    store = open_configured_store(config, key)
    try:
        household = config.household_id or store.local_household_id()
        skill = build_skill(store, session_key=derive_key(key))
        device = Device(InProcess(skill, store), household, grammar, app_id=app_id)
        try:
            yield device
        finally:
            device.end()
    finally:
        store.close()


def application_id(config: Config) -> str:
    """The skill id the local speaker sends: the first allowed id if any are configured (so
    a webhook that checks ids accepts it), else a fixed local one."""
    return config.skill_ids[0] if config.skill_ids else LOCAL_APPLICATION_ID


def _household_file(folder: Path) -> str:
    """This machine's household id when no store is open here: made once, kept in a file."""
    path = folder / "household-id"
    with suppress(FileNotFoundError):
        return path.read_text(encoding="utf-8").strip()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    made = f"local.{secrets.token_hex(16)}"
    path.write_text(made + "\n", encoding="utf-8")
    path.chmod(0o600)
    return made


def quiet_logs() -> None:
    """The skill logs a JSON line per request on stderr; a conversation on a terminal keeps
    only warnings and errors."""
    logging.getLogger("closer").setLevel(logging.WARNING)


def load_grammar() -> Any:
    from speech.grammar import default_grammar

    return default_grammar()


# -- closer chat ----------------------------------------------------------------------------


def chat(args: argparse.Namespace, config: Config) -> int:
    """Type what the speaker would hear; read what it says. A blank line or EOF ends."""
    from speech.tts import readable

    quiet_logs()
    interactive = sys.stdin.isatty()
    with local_device(config, args.endpoint, load_grammar()) as device:
        try:
            for line in _typed_lines(interactive):
                if not interactive:
                    print(f"you: {line}")
                reply = device.hear(line)
                print(f"closer: {readable(reply.ssml) if reply.ssml else '(says nothing)'}",
                      flush=True)
        except DoorError as error:
            print(f"closer chat: {error}", file=sys.stderr)
            return 1
    return 0


def _typed_lines(interactive: bool) -> Iterator[str]:
    while True:
        try:
            line = input("you: ") if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive and not line:
            return
        if not line.strip():
            return
        yield line.strip()


# -- closer speaker -------------------------------------------------------------------------


def speaker_nudges(device: Device) -> Any:
    """The household's nudges, said by this speaker: only with the skill in process (with
    ``--endpoint`` the reminders live in the webhook's store, not here)."""
    store = getattr(device.door, "store", None)
    if store is None:
        return None
    from closer.schedule import Nudges

    return Nudges(store, device.household_id)


def speaker(args: argparse.Namespace, config: Config) -> int:
    from speech import speaker as parts
    from speech.stt import open_recognizer
    from speech.tts import (
        NoSoundDevice,
        SpeechUnavailable,
        VoiceNotFound,
        VoiceUnavailable,
        check_output,
        open_voice,
    )

    quiet_logs()
    problem = _speaker_files_problem(args.wav or [], args.out)
    if problem:
        print(f"closer speaker: {problem}", file=sys.stderr)
        return 2
    out_dir = Path(args.out) if args.out else None
    try:
        source = parts.WavTurns(args.wav) if args.wav else parts.Microphone()
        if out_dir is None:
            check_output()
    except parts.NoMicrophone as error:
        print(f"closer speaker: {error}. Use --wav FILE... to play recorded turns instead.",
              file=sys.stderr)
        return 1
    except NoSoundDevice as error:
        print(f"closer speaker: {error}", file=sys.stderr)
        return 1
    grammar = load_grammar()
    try:
        ears = parts.Ears(open_recognizer(args.engine, grammar, config.vosk_model))
    except RuntimeError as error:  # speech.stt.EngineUnavailable: no model for --engine
        print(f"closer speaker: {error}", file=sys.stderr)
        return 1
    try:
        voice, notice = open_voice(args.voice)
    except (VoiceNotFound, VoiceUnavailable, SpeechUnavailable) as error:
        print(f"closer speaker: {error}", file=sys.stderr)
        return 1
    print(f"closer speaker: {notice}", file=sys.stderr)
    with local_device(config, args.endpoint, grammar) as device:
        if not args.wav:
            print(f'Listening. Say "{parts.PHRASE}", then what you would like. Ctrl-C stops.',
                  file=sys.stderr)
        report = parts.Report(show_heard=bool(args.wav or args.out), show_ignored=bool(args.wav))
        # Through a long pause it listens for "next" or "stop" on the same source.
        mouth = parts.Mouth(voice, out_dir, parts.PauseListener(ears, grammar, source))
        try:
            parts.run(device, ears, mouth, source, report, nudges=speaker_nudges(device))
        except DoorError as error:
            print(f"closer speaker: {error}", file=sys.stderr)
            return 1
    return 0


def _speaker_files_problem(wavs: list[str], out: str | None) -> str | None:
    """Why the recorded turns cannot be played or the answers not written, in one line;
    checked before anything is heard, so no turn is half done."""
    from speech.audio import AudioError, read_wav

    for name in wavs:
        path = Path(name)
        if not path.is_file():
            return f"{name}: no such file"
        try:
            if not read_wav(path):
                return f"{name}: the recording is empty"
        except (AudioError, OSError) as error:
            return f"{name}: {error}"
    if out is not None:
        target = Path(out)
        if target.exists() and not target.is_dir():
            return f"--out {out} is a file; give a folder for the answers' WAV files"
        if target.is_dir() and any(target.glob("[0-9][0-9].wav")):
            return f"--out {out} already holds answers (NN.wav); give an empty or new folder"
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            return f"cannot write answers to {out}: {error.strerror or error}"
    return None
