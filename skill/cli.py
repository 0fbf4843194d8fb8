"""The `closer` command: `closer serve` runs the Alexa webhook; the local speaker's
commands (recognize, chat, speaker, model) come from speech.cli."""

from __future__ import annotations

import argparse
import ipaddress
import sys

from skill import logs, packaging
from skill.config import Config
from speech import cli as speech_cli


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(args: argparse.Namespace) -> int:
    if args.no_verify and not is_loopback(args.host):
        print(
            f"closer: refusing --no-verify on {args.host}: skipping Amazon's signature check is "
            "only allowed on a loopback address (127.0.0.1, ::1, localhost).",
            file=sys.stderr,
        )
        return 2
    config = Config.from_env(verify=not args.no_verify)
    from skill.webhook.server import prepare_multiprocess_dir, run

    prepare_multiprocess_dir()  # before the app imports prometheus_client: workers share it
    from skill.webhook.app import create_app

    create_app(config)  # fail here, before forking, if the store or config is broken
    url = f"http://{args.host}:{args.port}"
    print(f"Closer Together is listening on {url}/alexa (health: {url}/healthz)")
    print(f"Household data: {config.database_url and 'PostgreSQL' or config.db_path}")
    if args.no_verify:
        print("Signature verification is OFF (loopback only). Try:")
        print(f"  curl -s {url}/alexa -H 'Content-Type: application/json' "
              "-d @tests/fixtures/requests/launch.json")
    else:
        print("Every request must carry Amazon's signature; for local tries run "
              "`closer serve --no-verify`. Health check:")
        print(f"  curl -s {url}/healthz")
    sys.stdout.flush()
    run(lambda: create_app(config), args.host, args.port, workers=args.workers or None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="closer", description="Closer Together voice skill")
    commands = parser.add_subparsers(dest="command", required=True)
    srv = commands.add_parser("serve", help="run the Alexa webhook (POST /alexa, GET /healthz)")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8080)
    srv.add_argument("--no-verify", action="store_true",
                     help="skip Amazon's signature check (loopback addresses only)")
    srv.add_argument("--workers", type=int, default=0,
                     help="server processes (default: 2 x cores + 1, at most 8)")
    srv.set_defaults(func=serve)
    speech_cli.register(commands)
    packaging.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    logs.setup()
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
