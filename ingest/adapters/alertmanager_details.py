"""The alerts inside an Alertmanager notification to PagerDuty.

Alertmanager's `pagerduty_configs` default `details` (config/notifiers.go,
`DefaultPagerdutyDetails`) hold the group's alerts under `firing` and `resolved`: as text
in the `__text_alert_list` form of template/default.tmpl (" - name = value" lines after
"Labels:"), or, in newer releases, as the alerts rendered with `toJson`. Either way the
labels every alert of the group shares are what the event is about.
"""

from __future__ import annotations

import orjson

_MAX_ALERTS = 1000  # a group's common labels are settled long before this


def shared_labels(details: object) -> dict[str, str]:
    """The labels all the firing alerts share (or all the resolved ones, when none fire);
    empty when `details` are not Alertmanager's."""
    if not isinstance(details, dict):
        return {}
    for key in ("firing", "resolved"):
        sets = _label_sets(details.get(key))
        if sets:
            common = dict(sets[0])
            for labels in sets[1:]:
                common = {k: v for k, v in common.items() if labels.get(k) == v}
            return common
    return {}


def _label_sets(value: object) -> list[dict[str, str]]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError:
                return []
        else:
            return _from_text(text)
    if not isinstance(value, list):
        return []
    sets = []
    for alert in value[:_MAX_ALERTS]:
        labels = alert.get("labels") if isinstance(alert, dict) else None
        if isinstance(labels, dict) and labels:
            sets.append({str(k): str(v) for k, v in labels.items()})
    return sets


def _from_text(text: str) -> list[dict[str, str]]:
    """'Labels:\\n - alertname = A\\n - job = x\\nAnnotations:\\n ...' per alert."""
    sets: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines()[: _MAX_ALERTS * 64]:
        if line == "Labels:":
            current = {}
            sets.append(current)
        elif line == "Annotations:" or line.startswith("Source:"):
            current = None
        elif current is not None and line.startswith(" - "):
            name, sep, value = line[3:].partition(" = ")
            if sep and name:
                current[name] = value
    return [labels for labels in sets if labels]
