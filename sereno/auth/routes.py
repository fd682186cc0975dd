"""Every route and the least it takes to use it: the one table the access middleware
enforces, the OpenAPI document lists and the tests derive their expectations from.

A route missing here is refused (403) by the middleware and fails the route tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sereno.auth.principal import Role


class Gate(enum.StrEnum):
    """Ways in that are not a role."""

    PUBLIC = "public"
    """Anyone: the sign-in pages, health, the API description."""
    LOCAL = "local"
    """Anyone on this machine (a local Prometheus); from elsewhere, a viewer."""
    SOURCE = "source"
    """The sending system's own credential (an ingest source's token or signature, the
    ticket webhook's signature); an API token or a sign-in is never one."""


Access = Role | Gate


@dataclass(frozen=True, slots=True)
class RouteRule:
    access: Access
    action: str
    """The name the audit log and the OpenAPI operation use."""
    summary: str
    group_scoped: bool = False
    """The role may also be held within the incident's support group only; the handler
    checks that group."""


V, OP, A = Role.VIEWER, Role.OPERATOR, Role.ADMIN

ROUTES: dict[tuple[str, str], RouteRule] = {
    ("GET", "/healthz"): RouteRule(Gate.PUBLIC, "health", "Liveness"),
    ("GET", "/readyz"): RouteRule(Gate.PUBLIC, "ready", "Readiness: storage and rules"),
    ("GET", "/metrics"): RouteRule(Gate.LOCAL, "metrics", "Prometheus metrics"),
    ("GET", "/api/v1/openapi.json"): RouteRule(Gate.PUBLIC, "openapi", "This API described"),
    ("GET", "/login"): RouteRule(Gate.PUBLIC, "login.page", "The sign-in page"),
    ("POST", "/login"): RouteRule(Gate.PUBLIC, "login", "Sign in with a name and password"),
    ("POST", "/logout"): RouteRule(Gate.PUBLIC, "logout", "Sign out"),
    ("GET", "/login/oidc"): RouteRule(Gate.PUBLIC, "login.oidc", "Sign in by single sign-on"),
    ("GET", "/login/oidc/callback"): RouteRule(
        Gate.PUBLIC, "login.oidc.callback", "Where the identity provider sends people back"
    ),
    # Ingest: each source's own credentials (ingest/guard.py).
    ("POST", "/api/v1/alerts/cloudwatch"): RouteRule(
        Gate.SOURCE, "alerts.receive", "CloudWatch alarms through SNS"
    ),
    ("POST", "/api/v1/alerts/{source}"): RouteRule(
        Gate.SOURCE, "alerts.receive", "Alerts from a monitoring source"
    ),
    ("POST", "/api/v2/alerts"): RouteRule(
        Gate.SOURCE, "alerts.receive", "Alertmanager's API v2 alerts"
    ),
    ("POST", "/v2/enqueue"): RouteRule(
        Gate.SOURCE, "alerts.receive", "PagerDuty Events API v2 compatible"
    ),
    ("POST", "/api/v1/tickets/{id}/callback"): RouteRule(
        Gate.SOURCE, "ticket.callback", "The ticket webhook's signed way back"
    ),
    ("POST", "/api/v1/callbacks/rt"): RouteRule(
        Gate.SOURCE, "callback.rt", "Request Tracker's signed way back (its scrip)"
    ),
    ("POST", "/api/v1/callbacks/glpi"): RouteRule(
        Gate.SOURCE, "callback.glpi", "GLPI's webhooks (X-GLPI-signature)"
    ),
    ("POST", "/api/v1/callbacks/jira"): RouteRule(
        Gate.SOURCE, "callback.jira", "Jira's webhooks (X-Hub-Signature)"
    ),
    # Reading.
    ("GET", "/api/v1/me"): RouteRule(V, "me", "Who I am, my role and CSRF token"),
    ("GET", "/api/v1/incidents"): RouteRule(V, "incident.list", "Incidents"),
    ("GET", "/api/v1/incidents/{id}"): RouteRule(V, "incident.get", "One incident"),
    ("GET", "/api/v1/tickets"): RouteRule(V, "ticket.list", "Tickets"),
    ("GET", "/api/v1/tickets/{id}"): RouteRule(V, "ticket.get", "One ticket"),
    ("GET", "/api/v1/suppressed"): RouteRule(V, "suppressed.list", "Alerts held back"),
    ("GET", "/api/v1/silences"): RouteRule(V, "silence.list", "Silences"),
    ("GET", "/api/v1/reports/daily"): RouteRule(V, "report.daily", "The daily report"),
    ("GET", "/runbooks/{name}"): RouteRule(V, "runbook.page", "A runbook as a page"),
    ("GET", "/api/v1/incidents/{id}/alerts"): RouteRule(
        V, "incident.alerts", "An incident's alerts, page by page"
    ),
    ("GET", "/api/v1/incidents/{id}/timeline"): RouteRule(
        V, "incident.timeline", "An incident's timeline, page by page"
    ),
    # The console: pages, the fragments that keep them live, its language and its files.
    ("GET", "/"): RouteRule(V, "console.incidents", "The console: incidents"),
    ("GET", "/incidents/{id}"): RouteRule(V, "console.incident", "The console: one incident"),
    ("GET", "/incidents/{id}/crisis"): RouteRule(
        V, "console.crisis", "The console: the crisis committee's view"
    ),
    ("GET", "/mine"): RouteRule(V, "console.mine", "The console: mine and my groups'"),
    ("GET", "/silences"): RouteRule(V, "console.silences", "The console: silences"),
    ("GET", "/tickets"): RouteRule(V, "console.tickets", "The console: tickets"),
    ("GET", "/runbooks"): RouteRule(V, "console.runbooks", "The console: runbooks"),
    ("GET", "/_live/incidents"): RouteRule(V, "console.live.incidents", "Live incident list"),
    ("GET", "/_live/incidents/{id}"): RouteRule(V, "console.live.incident", "Live incident"),
    ("GET", "/_live/incidents/{id}/crisis"): RouteRule(
        V, "console.live.crisis", "Live crisis view"
    ),
    ("GET", "/_live/mine"): RouteRule(V, "console.live.mine", "Live mine and my groups'"),
    ("GET", "/_live/silence-preview"): RouteRule(
        V, "console.live.preview", "What a silence would match"
    ),
    ("GET", "/language/{lang}"): RouteRule(Gate.PUBLIC, "console.language", "Page language"),
    ("GET", "/static/console"): RouteRule(Gate.PUBLIC, "console.static", "Console files"),
    # Operating.
    ("POST", "/api/v1/incidents/{id}/ack"): RouteRule(
        OP, "incident.acknowledge", "Acknowledge an incident", group_scoped=True
    ),
    ("POST", "/api/v1/incidents/{id}/resolve"): RouteRule(
        OP, "incident.resolve", "Resolve an incident", group_scoped=True
    ),
    ("POST", "/api/v1/incidents/{id}/reopen"): RouteRule(
        OP, "incident.reopen", "Reopen a resolved incident", group_scoped=True
    ),
    ("POST", "/api/v1/incidents/{id}/assign"): RouteRule(
        OP, "incident.assign", "Assign an incident to someone", group_scoped=True
    ),
    ("POST", "/api/v1/incidents/{id}/comment"): RouteRule(
        OP, "incident.comment", "Comment on an incident", group_scoped=True
    ),
    ("POST", "/api/v1/silences"): RouteRule(OP, "silence.create", "Silence alerts"),
    ("POST", "/api/v1/silences/preview"): RouteRule(
        OP, "silence.preview", "What a silence would match, without making it"
    ),
    ("DELETE", "/api/v1/silences/{id}"): RouteRule(OP, "silence.expire", "End a silence now"),
    # Administering.
    ("POST", "/api/v1/rules/reload"): RouteRule(A, "rules.reload", "Reload the rules"),
    ("GET", "/api/v1/users"): RouteRule(A, "user.list", "Users"),
    ("POST", "/api/v1/users"): RouteRule(A, "user.create", "Create a user"),
    ("PATCH", "/api/v1/users/{name}"): RouteRule(
        A, "user.update", "Change a user's role, groups, password or whether disabled"
    ),
    ("GET", "/api/v1/tokens"): RouteRule(A, "token.list", "API tokens"),
    ("POST", "/api/v1/tokens"): RouteRule(A, "token.create", "Make an API token"),
    ("DELETE", "/api/v1/tokens/{id}"): RouteRule(A, "token.revoke", "Revoke an API token"),
    ("GET", "/api/v1/audit"): RouteRule(A, "audit.list", "The audit log"),
}


def rule_for(method: str, path: str) -> RouteRule | None:
    """The rule of a registered route (`path` as registered, with its {placeholders})."""
    return ROUTES.get(("GET" if method == "HEAD" else method, path))
