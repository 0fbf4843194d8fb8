"""Structured logs as JSON lines. Callers pass only safe fields (request types, intent
names, reasons) in ``extra``: never what a couple said, their names or appreciations."""

from __future__ import annotations

import json
import logging
import sys
import time

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
# One encoder for every line: json.dumps(..., default=str) builds a new one on each call.
_encode = json.JSONEncoder(default=str).encode


def skip_caller_lookup() -> None:
    """Stop log records from looking up their caller (a walk up the stack, the dearest part
    of a record): no line here shows it, and the webhook writes one line per request. The
    logging HOWTO's "Optimization" section names this switch. (Thread and process stay:
    gunicorn's own format prints the process id.)"""
    logging._srcfile = None  # type: ignore[attr-defined]


class JsonLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        skip_caller_lookup()  # gunicorn's logging configuration builds this formatter too
        self._second = (-1, "")  # the last whole second and its text; one tuple, thread-safe

    def _timestamp(self, created: float) -> str:
        second, text = self._second
        if int(created) != second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(created))
            self._second = (int(created), text)
        return text

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            line["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return _encode(line)


def setup(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger("closer")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
