"""Shared fixtures: real SQLite files in tmp_path, the repository's example rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.config import Settings
from core.rules import Rules, load_rules
from core.storage import Storage

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_RULES = REPO / "rules"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES)


@pytest.fixture
def rules() -> Rules:
    return load_rules(EXAMPLE_RULES)


@pytest.fixture
async def storage(settings: Settings) -> AsyncIterator[Storage]:
    opened = Storage(settings)
    opened.open()
    yield opened
    opened.close()
