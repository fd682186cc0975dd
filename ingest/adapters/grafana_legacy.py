"""Grafana legacy alerting's webhook notification channel (Grafana before 11, with legacy
alerting): one notification per rule and state change.

https://grafana.com/docs/grafana/v8.5/alerting/old-alerting/notifications/#webhook

Body: title, ruleId, ruleName, state (ok, alerting, no_data, paused, pending), evalMatches
(value, metric, tags), orgId, dashboardId, panelId, tags, ruleUrl, imageUrl, message. The
alert is the rule in its organisation: every notification about one rule has one
fingerprint. `alerting` and `no_data` fire, `ok` resolves; `paused` and `pending` are no
news about a problem and make no alert.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.models import Alert, AlertStatus
from ingest.adapters import AdapterContext, first_label, unicode_fingerprint, unmapped_severity
from ingest.adapters.labelled import RESOURCE_LABELS, SERVICE_LABELS
from ingest.problems import FieldProblem, PayloadError, from_validation

SOURCE = "grafana"
_STATES = {
    "alerting": AlertStatus.FIRING,
    "no_data": AlertStatus.FIRING,
    "ok": AlertStatus.RESOLVED,
}
_QUIET = {"paused", "pending"}
_LABEL_VALUE_MAX = 8192


class _Match(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    value: float | None = None
    metric: str = ""
    tags: dict[str, str] | None = None


class _LegacyNotification(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    title: str = ""
    ruleId: str  # noqa: N815 - the sender's field names
    ruleName: str = Field(min_length=1)  # noqa: N815
    state: str
    evalMatches: list[_Match] = Field(default_factory=list)  # noqa: N815
    orgId: str = ""  # noqa: N815
    dashboardId: str = ""  # noqa: N815
    panelId: str = ""  # noqa: N815
    tags: dict[str, str] = Field(default_factory=dict)
    ruleUrl: str = ""  # noqa: N815
    imageUrl: str = ""  # noqa: N815
    message: str = ""


def is_legacy(payload: object) -> bool:
    """True for a legacy alerting body (it has a rule, and no list of alerts)."""
    return isinstance(payload, dict) and "alerts" not in payload and "ruleName" in payload


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        note = _LegacyNotification.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "Grafana legacy alerting webhook") from e
    state = note.state.strip().lower()
    if state in _QUIET:
        return []
    if state not in _STATES:
        raise PayloadError(
            "invalid Grafana legacy alerting webhook: check state",
            [FieldProblem("state", f"'{note.state[:64]}' is not ok, alerting, no_data, "
                                   "paused or pending")],
        )  # fmt: skip
    status = _STATES[state]
    # The series that matched say what is affected when the rule's own tags do not.
    matched = [m.tags for m in note.evalMatches if m.tags]
    shared = dict(matched[0]) if matched else {}
    for tags in matched[1:]:
        shared = {k: v for k, v in shared.items() if tags.get(k) == v}
    labels = {**shared, **note.tags, "alertname": note.ruleName}
    labels = {k[:256]: v[:_LABEL_VALUE_MAX] for k, v in list(labels.items())[:200]}
    rules = ctx.rules
    word = labels.get(rules.severity_label(SOURCE))
    identity = {"org": note.orgId, "rule": note.ruleId}
    annotations = {
        name: value[:_LABEL_VALUE_MAX]
        for name, value in (("title", note.title), ("message", note.message),
                            ("image_url", note.imageUrl), ("state", note.state),
                            ("dashboard_id", note.dashboardId), ("panel_id", note.panelId))
        if value
    }  # fmt: skip
    return [
        Alert(
            source=SOURCE,
            source_id=f"{note.orgId}/{note.ruleId}"[:512],
            fingerprint=unicode_fingerprint(SOURCE, identity, "Grafana legacy alerting webhook"),
            status=status,
            name=note.ruleName[:512],
            resource=rules.resources.normalize(first_label(labels, *RESOURCE_LABELS))[:512],
            service=first_label(labels, *SERVICE_LABELS)[:512],
            severity=rules.severity_of(SOURCE, word),
            labels=labels | unmapped_severity(rules, SOURCE, word),
            annotations=annotations,
            summary=(note.message or note.title or note.ruleName)[:8192],
            starts_at=ctx.received_at,
            ends_at=ctx.received_at if status is AlertStatus.RESOLVED else None,
            received_at=ctx.received_at,
            source_url=note.ruleUrl[:4096]
            if note.ruleUrl.startswith(("https://", "http://"))
            else "",
        )
    ]
