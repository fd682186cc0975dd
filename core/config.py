"""Settings: read once in the entry point, typed, passed down.

Nothing else reads the environment or the settings file.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class StageName(enum.StrEnum):
    INGEST = "ingest"
    CORRELATE = "correlate"
    TICKETER = "ticketer"
    NOTIFY = "notify"


class IngestLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    max_alerts_per_request: int = Field(default=20_000, gt=0)


class Settings(BaseModel):
    """Everything `serve`, `replay` and the workers need to know, from one YAML file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    listen: str = "127.0.0.1:8080"
    data_dir: Path = Path("data")
    rules_dir: Path = Path("rules")
    runbooks_dir: Path = Path("runbooks")
    public_url: str = ""
    timezone: str = "Europe/Madrid"
    language: Literal["en", "es"] = "en"
    stages: tuple[StageName, ...] = tuple(StageName)
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    ingest: IngestLimits = IngestLimits()

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("write HOST:PORT, for example 127.0.0.1:8080")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def base_url(self) -> str:
        """Where people reach this Sereno; used in links inside tickets and messages."""
        return self.public_url.rstrip("/") or f"http://{self.listen}"


class ConfigError(Exception):
    """The configuration file cannot be used; the message says where and how to fix it."""


def load_settings(path: Path | None, **overrides: object) -> Settings:
    """Read `path` (YAML), apply command-line `overrides` that are not None, and resolve
    relative folders against the file's own folder so `--config` works from anywhere."""
    raw: dict[str, object] = {}
    base = Path.cwd()
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the configuration file: {e.strerror}") from e
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from e
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the configuration must be a mapping of settings")
        raw = loaded
        base = path.parent
    given = {k: v for k, v in overrides.items() if v is not None}
    raw.update(given)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as e:
        lines = [
            f"{path or 'settings'}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in e.errors()
        ]
        raise ConfigError("\n".join(lines)) from e
    return settings.model_copy(
        update={
            name: base / getattr(settings, name)
            for name in ("data_dir", "rules_dir", "runbooks_dir")
            if not getattr(settings, name).is_absolute() and name not in given
        }
    )
