"""The `closer` command. Arguments are parsed here and the configuration is read once; each
subcommand's work lives with its part (the webhook in skill/doors, the speech path in speech/,
the local speaker's composition in closer/local.py), imported only when it runs, so that
`closer serve` never loads a recognizer.

Every subcommand answers bad input with one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import socket
import sys

from skill import logs
from skill.config import Config, ConfigError

ENGINES = ("vosk", "pocketsphinx")
VOICE_HELP = ("a Piper voice by name or path (.onnx, or its folder), or pyttsx3 for espeak-ng; "
              "default: the first Piper voice installed, else espeak-ng")


# -- closer serve ---------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Where the shipped Caddy and nginx configurations forward: an unverified server never
# listens there, so a proxy in front of this machine cannot reach one.
PROXIED_PORT = 8080
UNVERIFIED_PORT = 8081


def serve(args: argparse.Namespace, config: Config) -> int:
    if args.port is None:
        args.port = UNVERIFIED_PORT if args.no_verify else PROXIED_PORT
    if args.no_verify and args.port == PROXIED_PORT:
        return _fail("serve", f"refusing --no-verify on port {PROXIED_PORT}: the shipped proxies "
                     f"forward there; use another port (default {UNVERIFIED_PORT})")
    if args.no_verify and not is_loopback(args.host):
        return _fail("serve", f"refusing --no-verify on {args.host}: skipping Amazon's signature "
                     "check is only allowed on a loopback address (127.0.0.1, ::1, localhost)")
    if not args.no_verify and not config.skill_ids and not args.any_skill:
        return _fail("serve", "set CLOSER_SKILL_IDS to your skill's id (amzn1.ask.skill....), or "
                     "pass --any-skill to accept every skill's Amazon-signed requests")
    config = config.but(verify=not args.no_verify, workers=args.workers or config.workers)
    from skill.doors.server import bind_address, prepare_multiprocess_dir, run

    problem = _port_problem(args.host, args.port)
    if problem:
        return _fail("serve", problem)
    prepare_multiprocess_dir()  # before the app imports prometheus_client: workers share it
    from skill.doors.webhook import create_app

    create_app(config)  # fail here, before forking, if the store or config is broken

    def ready(port: int) -> None:
        host = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{host}:{port}"
        print(f"Closer Together is listening on {url}/alexa (health: {url}/healthz)")
        print(f"Household data: {'PostgreSQL' if config.uses_postgres else config.db_path}")
        if args.no_verify:
            print("Signature verification is OFF (loopback only, never through a proxy). Try:")
            print(f"  curl -s {url}/alexa -H 'Content-Type: application/json' "
                  "-d @tests/fixtures/requests/launch.json")
        else:
            print("Every request must carry Amazon's signature; for local tries run "
                  "`closer serve --no-verify --port 8081`. Health check:")
            print(f"  curl -s {url}/healthz")
        sys.stdout.flush()

    run(lambda: create_app(config), bind_address(args.host, args.port),
        workers=config.workers, threads=config.threads, when_ready=ready)
    return 0


def _port_problem(host: str, port: int) -> str | None:
    """Why the webhook could not listen on host:port, or None (checked before starting)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        return f"cannot listen on {host}: {error.strerror}"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another server?)"
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return None


# -- the local speaker and its speech path ---------------------------------------------------


def chat(args: argparse.Namespace, config: Config) -> int:
    from closer.local import chat as run_chat

    return run_chat(args, config)


def speaker(args: argparse.Namespace, config: Config) -> int:
    from closer.local import speaker as run_speaker

    return run_speaker(args, config)


def recognize(args: argparse.Namespace, config: Config) -> int:
    from speech.recognize import main as run_recognize

    return run_recognize(args, config.vosk_model)


def model_fetch(args: argparse.Namespace, config: Config) -> int:
    from speech.stt.models import fetch_main

    return fetch_main(args, config.vosk_model)


def say(args: argparse.Namespace, config: Config) -> int:
    from speech.say import main as run_say

    return run_say(args)


def voice_fetch(args: argparse.Namespace, config: Config) -> int:
    from speech.tts.voices import fetch_main

    return fetch_main(args)


def reencrypt(args: argparse.Namespace, config: Config) -> int:
    """Key rotation: every name and appreciation sealed again under CLOSER_DATA_KEY, read
    with whichever of CLOSER_OLD_DATA_KEYS sealed it."""
    from skill.app import open_configured_store
    from skill.store import StoreUnavailable, UndecryptableValue

    try:
        store = open_configured_store(config)
        try:
            count = store.reencrypt()
        finally:
            store.close()
    except (StoreUnavailable, UndecryptableValue) as error:
        return _fail("reencrypt", f"{error} (is every old key in CLOSER_OLD_DATA_KEYS?)", 1)
    print(f"{count} values sealed again under the current key; the old keys can go now.")
    return 0


def package(args: argparse.Namespace, config: Config) -> int:
    from closer.packaging import main as build_package

    return build_package(args)


# -- the parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="closer", description="Closer Together voice skill")
    commands = parser.add_subparsers(dest="command", required=True)

    srv = commands.add_parser("serve", help="run the Alexa webhook (POST /alexa, GET /healthz)")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=None,
                     help=f"default {PROXIED_PORT}; {UNVERIFIED_PORT} with --no-verify; "
                          "0 picks a free port")
    srv.add_argument("--no-verify", action="store_true",
                     help="skip Amazon's signature check (loopback addresses only)")
    srv.add_argument("--any-skill", action="store_true",
                     help="accept every skill's signed requests (instead of CLOSER_SKILL_IDS)")
    srv.add_argument("--workers", type=int, default=0,
                     help="server processes (default: 2 x cores + 1, at most 8)")
    srv.set_defaults(func=serve)

    rec = commands.add_parser("recognize", help="recognize WAV files: text, intent and slots")
    rec.add_argument("files", nargs="+", metavar="FILE.wav")
    rec.add_argument("--engine", choices=ENGINES, default=None,
                     help="default: Vosk if a model is installed, else PocketSphinx")
    rec.add_argument("--json", action="store_true", help="one JSON object per line")
    rec.add_argument("--free-text", action="store_true",
                     help="decode as a free-text turn (an appreciation) instead of a command")
    rec.set_defaults(func=recognize)

    talk = commands.add_parser("chat", help="talk to the skill by typing, as the speaker hears")
    talk.add_argument("--endpoint", default=None, help="a webhook URL instead of in-process")
    talk.set_defaults(func=chat)

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
    spk.set_defaults(func=speaker)

    words = commands.add_parser("say", help="speak text or SSML as the local speaker would")
    words.add_argument("text", metavar="TEXT", help='words, or "<speak>SSML</speak>"')
    words.add_argument("--voice", default=None, metavar="NAME|PATH", help=VOICE_HELP)
    words.add_argument("--out", default=None, metavar="FILE.wav",
                       help="write a WAV file instead of playing it")
    words.add_argument("--force", action="store_true", help="replace an existing --out file")
    words.add_argument("--json", action="store_true",
                       help='one line: {"voice", "engine", "seconds", "first_audio_ms", "ms"}')
    words.set_defaults(func=say)

    model = commands.add_parser("model", help="manage the Vosk speech model")
    model_commands = model.add_subparsers(dest="model_command", required=True)
    fetch = model_commands.add_parser("fetch", help="download and check the small English model")
    fetch.add_argument("--url", default=None, help="download from here instead (a mirror)")
    fetch.add_argument("--sha256", default=None, help="expected SHA-256 of the download")
    fetch.add_argument("--dest", default=None, help="install into this directory")
    fetch.set_defaults(func=model_fetch)

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
    vfetch.set_defaults(func=voice_fetch)

    rotate = commands.add_parser("reencrypt", help="after a key rotation: seal everything "
                                                   "again under CLOSER_DATA_KEY")
    rotate.set_defaults(func=reencrypt)

    from closer.packaging import add_arguments

    pkg = commands.add_parser("package", help="build the Alexa skill package (ASK CLI v2) "
                                              "from interaction_models/")
    add_arguments(pkg)
    pkg.set_defaults(func=package)
    return parser


def _fail(command: str, message: str, status: int = 2) -> int:
    print(f"closer {command}: {message}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    logs.setup()
    args = build_parser().parse_args(argv)
    try:
        config = Config.from_env()
    except ConfigError as error:
        return _fail(args.command, str(error))
    try:
        return args.func(args, config)
    except ConfigError as error:  # a setting found wrong when it was used (a data key)
        return _fail(args.command, str(error))
    except KeyboardInterrupt:
        print(f"closer {args.command}: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `closer chat | head`: the reader left
        sys.stderr.close()
        return 1


if __name__ == "__main__":
    sys.exit(main())
