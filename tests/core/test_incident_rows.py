"""Which rows a change of an incident writes: those it changed, wherever they are."""

from __future__ import annotations

from core.models import AlertStatus, Incident, IncidentAlert, Priority, Severity
from core.store.incident_rows import write_of
from tests.conftest import T0


def _alert(n: int) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=f"f{n}", source="generic", source_id=f"f{n}", name="Down",
        resource=f"h{n}", service="", severity=Severity.MAJOR, status=AlertStatus.FIRING,
        first_seen=T0, last_seen=T0,
    )  # fmt: skip


def _incident(alerts: tuple[IncidentAlert, ...]) -> Incident:
    return Incident(
        id="INC-1", key="k", title="t", severity=Severity.MAJOR, priority=Priority.P2,
        opened_at=T0, alerts=alerts,
    )  # fmt: skip


def test_only_changed_and_new_rows_are_written() -> None:
    before = _incident(tuple(_alert(n) for n in range(200)))
    alerts = list(before.alerts)
    for at in (5, 130, 199):
        alerts[at] = alerts[at].model_copy(update={"status": AlertStatus.RESOLVED})
    alerts[70] = alerts[70].model_copy()  # another object, the same row
    after = before.model_copy(update={"alerts": (*alerts, _alert(200), _alert(201))})
    write = write_of(after, "r", before)
    assert [at for at, _ in write.alerts.changed] == [5, 130, 199, 200, 201]
    assert write.alerts.changed[0][1] == alerts[5].model_dump_json()
    assert write.alerts.count == 202
    assert write.timeline.changed == []
    assert write.failing_changed  # h5, h130 and h199 resolved; h200 and h201 joined
    retitled = write_of(before.model_copy(update={"title": "u"}), "r", before)
    assert (retitled.alerts.changed, retitled.failing_changed) == ([], False)
    shrunk = write_of(before.model_copy(update={"alerts": before.alerts[:10]}), "r", before)
    assert (shrunk.alerts.changed, shrunk.alerts.count) == ([], 10)


def test_without_a_base_every_row_is_written() -> None:
    incident = _incident(tuple(_alert(n) for n in range(3)))
    write = write_of(incident, "r", None)
    assert [at for at, _ in write.alerts.changed] == [0, 1, 2]
    assert write.failing_changed
