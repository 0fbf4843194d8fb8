"""Configuration: every ``CLOSER_*`` environment variable is read here, once, by
``Config.from_env()``; everything else is handed a ``Config`` (or the values it needs).

README: Configuration lists the variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

MAX_BODY_BYTES = 128 * 1024


def default_data_dir() -> Path:
    """Where the embedded SQLite database (and the local speaker's key file) live by default."""
    import platformdirs

    return Path(platformdirs.user_data_dir("closer-together"))


def default_db_path() -> Path:
    return default_data_dir() / "closer.sqlite3"


class ConfigError(ValueError):
    """A setting has a value that cannot work; the message names the variable."""


@dataclass(frozen=True)
class Config:
    # Household state: a SQLite file, or PostgreSQL when ``database_url`` is set.
    db_path: Path = field(default_factory=default_db_path)
    db_path_chosen: bool = False  # CLOSER_DB was set (not the per-user default)
    database_url: str | None = None
    # The key that encrypts names and appreciations at rest (base64 of 32 bytes); without
    # it, a key file beside the SQLite data is made on first start (local use).
    data_key: str | None = None
    old_data_keys: tuple[str, ...] = ()  # keys being rotated out: read with, never written
    journal_days: int = 7
    # Alexa application ids allowed to call; empty means any (only with ``any_skill``).
    skill_ids: tuple[str, ...] = ()
    any_skill: bool = False
    verify: bool = True
    metrics_token: str | None = None
    # Serving.
    bind: str = "127.0.0.1:8080"
    workers: int | None = None
    threads: int = 1
    # The local speaker.
    vosk_model: Path | None = None
    household_id: str | None = None

    @property
    def key_file(self) -> Path:
        """The local speaker's own key file, used when ``data_key`` is not set."""
        return self.db_path.with_name("closer.key")

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    def but(self, **changes: object) -> Config:
        """A copy with some settings changed (command-line flags over the environment)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        values: dict[str, object] = {
            "db_path": Path(text("CLOSER_DB") or default_db_path()).expanduser(),
            "db_path_chosen": text("CLOSER_DB") is not None,
            "database_url": text("CLOSER_DATABASE_URL"),
            "data_key": text("CLOSER_DATA_KEY"),
            "old_data_keys": tuple(
                k.strip() for k in env.get("CLOSER_OLD_DATA_KEYS", "").split(",") if k.strip()),
            "journal_days": _number(text("CLOSER_JOURNAL_DAYS"), "CLOSER_JOURNAL_DAYS") or 7,
            "skill_ids": tuple(dict.fromkeys(
                s.strip() for s in env.get("CLOSER_SKILL_IDS", "").split(",") if s.strip())),
            "metrics_token": text("CLOSER_METRICS_TOKEN"),
            "bind": text("CLOSER_BIND") or "127.0.0.1:8080",
            "workers": _number(text("CLOSER_WORKERS"), "CLOSER_WORKERS"),
            "threads": _number(text("CLOSER_THREADS"), "CLOSER_THREADS") or 1,
            "vosk_model": Path(v).expanduser() if (v := text("CLOSER_VOSK_MODEL")) else None,
            "household_id": text("CLOSER_HOUSEHOLD_ID"),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _number(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise ConfigError(f"{name} must be at least 1")
    return number
