"""Secrets the operator keeps out of the files Sereno reads: in the environment or a file."""

from __future__ import annotations

import os
from pathlib import Path


def read_secret(env: str | None, file: Path | None) -> str:
    """The secret in environment variable `env`, else in `file` (surrounding whitespace
    removed); ValueError saying what is missing when it cannot be read or is empty."""
    if env is not None:
        value = os.environ.get(env, "")
        if not value:
            raise ValueError(f"environment variable {env} is not set or empty")
        return value
    if file is None:
        raise ValueError("give the secret as {env: VARIABLE} or {file: PATH}")
    try:
        value = file.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ValueError(f"cannot read secret file {file}: {e.strerror}") from e
    if not value:
        raise ValueError(f"secret file {file} is empty")
    return value
