"""Configuration from the environment (see README: Configuration)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from skill.store import default_db_path

MAX_BODY_BYTES = 128 * 1024


@dataclass(frozen=True)
class Config:
    db_path: Path = field(default_factory=default_db_path)
    database_url: str | None = None
    skill_ids: frozenset[str] = frozenset()
    verify: bool = True

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        env = os.environ
        values: dict[str, object] = {
            "db_path": Path(env["CLOSER_DB"]) if env.get("CLOSER_DB") else default_db_path(),
            "database_url": env.get("CLOSER_DATABASE_URL") or None,
            "skill_ids": frozenset(
                s.strip() for s in env.get("CLOSER_SKILL_IDS", "").split(",") if s.strip()
            ),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
