"""One adapter per source format; each turns a parsed JSON payload into canonical alerts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from core.models import Alert
from core.rules import Rules, SourceSeverity
from core.rules.sources import DEFAULT_SEVERITY_WORDS
from ingest.problems import FieldProblem, PayloadError


@dataclass(frozen=True, slots=True)
class AdapterContext:
    received_at: datetime
    rules: Rules


Adapter = Callable[[object, AdapterContext], list[Alert]]
"""Parse a payload; raise ingest.problems.PayloadError naming what is wrong (for a batch
with some good items, ingest.adapters.batch.PartlyRefusedError carrying them)."""

UNMAPPED_SEVERITY = "sereno_unmapped_severity"
"""The label recording a severity word that neither the source's rules nor the common
words map: the alert still gets the source's default severity, and this says so."""
_UNMAPPED_MAX = 256


def unmapped_severity(rules: Rules, source: str, word: str | None) -> dict[str, str]:
    """{UNMAPPED_SEVERITY: word} when the sender gave a severity word that fell to the
    source's default for want of a mapping; {} otherwise (no word, or a known one)."""
    if word is None or not word.strip():
        return {}
    key = word.strip().lower()
    if key in rules.severity.get(source, SourceSeverity()).map or key in DEFAULT_SEVERITY_WORDS:
        return {}
    return {UNMAPPED_SEVERITY: word.strip()[:_UNMAPPED_MAX]}


def stable_fingerprint(source: str, identity: Mapping[str, str]) -> str:
    """A fingerprint that is the same for the same alert across restarts and replays."""
    canonical = json.dumps(sorted(identity.items()), ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:20]
    return f"{source}:{digest}"


def unicode_fingerprint(source: str, identity: Mapping[str, str], what: str) -> str:
    """`stable_fingerprint`, refusing text that is not Unicode (a lone surrogate sent as a
    JSON \\ud800 escape) as the sender's mistake, naming the fields."""
    try:
        return stable_fingerprint(source, identity)
    except UnicodeEncodeError as e:
        raise PayloadError(
            f"invalid {what}: text that is not Unicode",
            [FieldProblem(name, "not valid Unicode text") for name in identity],
        ) from e


def first_label(labels: Mapping[str, str], *names: str) -> str:
    """The first of `names` present and non-empty in `labels`."""
    return next((labels[n] for n in names if labels.get(n)), "")
