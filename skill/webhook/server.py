"""Serving the Flask app with gunicorn (a production WSGI server), in process."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    """Each worker builds its own app (and database connections) after the fork."""

    def __init__(self, factory: Callable[[], Flask], options: dict) -> None:
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def run(factory: Callable[[], Flask], host: str, port: int, workers: int = 2) -> None:
    _Gunicorn(factory, {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": 4,
        "timeout": 7,  # shorter than Alexa's 8 s limit
        "graceful_timeout": 10,
        "accesslog": None,  # request paths only would add nothing; our JSON lines say more
        "loglevel": "warning",
    }).run()
