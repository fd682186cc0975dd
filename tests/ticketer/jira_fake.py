"""A local Jira (REST API v2) on loopback, answering as Atlassian documents it: create issue
(201 with id, key, self), JQL search by label or by `updated >= "-Nm"`, an issue with its
changelog (`expand=changelog`: histories with author, created and items), comments with
their author, transitions (204), the error body `{"errorMessages": [...], "errors": {...}}`,
401 without the right credentials, 404 for an unknown issue, and 429/503 with Retry-After
while it is told to be unavailable.

What agents do in Jira (`assign`, `say`, `move`, `set_priority`) is recorded in the changelog
as Jira records it, and `send_webhook` posts Jira's webhook for it: `jira:issue_updated`
(with the changelog of that change) or `comment_created`, each with `timestamp` (ms),
`webhookEvent`, `user` and `issue`, signed as Jira signs an admin webhook with a secret:
`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

PROJECT = "OPS"
EMAIL = "ops@example.org"
TOKEN = "api-token"  # noqa: S105 - the fake's own credential
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
ISSUE_TYPES = ("Task", "Incident")
UNAUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
SERENO_ACCOUNT = "5b10a2844c20165700ede21g"
AGENT_ACCOUNT = "5b10ac8d82e05b22cc7d4ef5"
ACCOUNTS = {SERENO_ACCOUNT: "Sereno", AGENT_ACCOUNT: "Ana Agent"}
TO_DO = {"name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}}
DONE = {"name": "Done", "statusCategory": {"key": "done", "name": "Done"}}
TRANSITIONS = {  # from each status category: the workflow's transitions (id, name, to)
    "new": [("21", "In Progress", TO_DO), ("31", "Done", DONE)],
    "done": [("41", "Reopen", TO_DO)],
}


def _error(status: int, messages: list[str], errors: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"errorMessages": messages, "errors": errors or {}}, status=status)


@dataclass
class Issue:
    id: str
    key: str
    fields: dict[str, Any]
    status: dict[str, Any] = field(default_factory=lambda: dict(TO_DO))
    comments: list[dict[str, Any]] = field(default_factory=list)
    histories: list[dict[str, Any]] = field(default_factory=list)
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))


def _user(account: str) -> dict[str, Any]:
    return {"accountId": account, "displayName": ACCOUNTS[account], "active": True}


def _stamp(when: datetime) -> str:
    """Jira's time format: 2026-12-04T10:01:22.000+0000."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class FakeJira:
    """State and behaviour; `unavailable` lists the answers (429 or 503) the next calls get,
    `drop_creates` how many creations are made and then lose their answer."""

    unavailable: list[int] = field(default_factory=list)
    retry_after: dict[int, str] = field(default_factory=dict)
    """Retry-After sent with each status, when it sends one."""
    drop_creates: int = 0
    issues: dict[str, Issue] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    refused: Counter[int] = field(default_factory=Counter)
    server: TestServer | None = None
    webhook_url: str = ""
    webhook_secret: str = ""
    _ids: int = 30000

    def _next(self) -> str:
        self._ids += 1
        return str(self._ids)

    async def start(self) -> str:
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/rest/api/2/issue", self.create)
        app.router.add_get("/rest/api/2/search", self.search)
        app.router.add_get("/rest/api/2/issue/{key}", self.get_issue)
        app.router.add_get("/rest/api/2/project/{key}", self.get_project)
        app.router.add_get("/rest/api/2/issue/{key}/comment", self.comments)
        app.router.add_post("/rest/api/2/issue/{key}/comment", self.comment)
        app.router.add_get("/rest/api/2/issue/{key}/transitions", self.transitions)
        app.router.add_post("/rest/api/2/issue/{key}/transitions", self.transition)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def labelled(self) -> Counter[str]:
        """How many issues carry each label: more than one is a duplicate."""
        return Counter(label for i in self.issues.values() for label in i.fields["labels"])

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls[f"{request.method} {request.match_info.route.resource.canonical}"] += 1  # type: ignore[union-attr]
        expected = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            self.refused[401] += 1
            return _error(401, [UNAUTHENTICATED])
        if self.unavailable:
            status = self.unavailable.pop(0)
            self.refused[status] += 1
            wait = self.retry_after.get(status)
            headers = {"Retry-After": wait} if wait is not None else {}
            if status == 429:
                headers |= {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                            "RateLimit-Reason": "jira-burst-based"}  # fmt: skip
                return web.Response(status=429, headers=headers, text="Rate limit exceeded.")
            body = {"errorMessages": ["Service Unavailable"], "errors": {}}
            return web.json_response(body, status=status, headers=headers)
        response: web.StreamResponse = await handler(request)
        return response

    def _issue(self, request: web.Request) -> Issue | None:
        return self.issues.get(request.match_info["key"])

    async def create(self, request: web.Request) -> web.StreamResponse:
        fields = (await request.json()).get("fields", {})
        errors: dict[str, str] = {}
        if fields.get("project", {}).get("key") != PROJECT:
            errors["project"] = "valid project is required"
        if fields.get("issuetype", {}).get("name") not in ISSUE_TYPES:
            errors["issuetype"] = "valid issue type is required"
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if "priority" in fields and fields["priority"].get("name") not in PRIORITIES:
            errors["priority"] = f"Priority name '{fields['priority'].get('name')}' is not valid"
        if any(" " in label for label in fields.get("labels", [])):
            errors["labels"] = "The label can't contain spaces."
        if errors:
            return _error(400, [], errors)
        number = len(self.issues) + 1
        issue = Issue(id=str(10000 + number), key=f"{PROJECT}-{number}", fields=fields)
        self.issues[issue.key] = issue
        if self.drop_creates > 0:
            self.drop_creates -= 1
            assert request.transport is not None
            request.transport.abort()  # created, but the answer never arrives
            return web.Response(status=201)
        self_url = f"{request.url.origin()}/rest/api/2/issue/{issue.id}"
        return web.json_response({"id": issue.id, "key": issue.key, "self": self_url}, status=201)

    async def search(self, request: web.Request) -> web.Response:
        jql = request.query.get("jql", "")
        labels = re.findall(r'labels\s*=\s*"([^"]*)"', jql)
        project = re.search(r'project\s*=\s*"([^"]*)"', jql)
        recent = re.search(r'updated\s*>=\s*"-(\d+)m"', jql)
        if not labels and not recent:
            return _error(400, [f"Error in the JQL Query: {jql!r}"])
        since = datetime.now(UTC) - timedelta(minutes=int(recent[1])) if recent else None
        found = [
            i for i in self.issues.values()
            if (not labels or labels[0] in i.fields["labels"])
            and (since is None or i.updated >= since)
            and (project is None or project[1] == PROJECT)
        ]  # fmt: skip
        issues = [{"id": i.id, "key": i.key,
                   "fields": {"status": i.status, "labels": i.fields["labels"]}}
                  for i in found]  # fmt: skip
        return web.json_response({"startAt": 0, "maxResults": 50, "total": len(issues),
                                  "issues": issues})  # fmt: skip

    async def get_project(self, request: web.Request) -> web.Response:
        if request.match_info["key"] != PROJECT:
            return _error(
                404, [f"No project could be found with key '{request.match_info['key']}'."]
            )
        return web.json_response({"id": "10000", "key": PROJECT, "name": "Operations"})

    async def get_issue(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        if issue is None:
            return _error(404, ["Issue does not exist or you do not have permission to see it."])
        body: dict[str, Any] = {"id": issue.id, "key": issue.key,
                                "fields": {**issue.fields, "status": issue.status,
                                           "updated": _stamp(issue.updated)}}  # fmt: skip
        if "changelog" in request.query.get("expand", ""):
            count = len(issue.histories)
            body["changelog"] = {"startAt": 0, "maxResults": count, "total": count,
                                 "histories": issue.histories}  # fmt: skip
        return web.json_response(body)

    async def comments(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        if issue is None:
            return _error(404, ["Issue does not exist or you do not have permission to see it."])
        page = {"startAt": 0, "maxResults": 1000, "total": len(issue.comments)}
        return web.json_response(page | {"comments": issue.comments})

    async def comment(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        if issue is None:
            return _error(404, ["Issue does not exist or you do not have permission to see it."])
        body = (await request.json()).get("body", "")
        if not body:
            return _error(400, [], {"comment": "Comment body can not be empty!"})
        return web.json_response(self.say(issue, SERENO_ACCOUNT, body), status=201)

    async def transitions(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        if issue is None:
            return _error(404, ["Issue does not exist or you do not have permission to see it."])
        offered = TRANSITIONS[issue.status["statusCategory"]["key"]]
        return web.json_response({"expand": "transitions", "transitions": [
            {"id": i, "name": name, "to": to} for i, name, to in offered]})  # fmt: skip

    async def transition(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        if issue is None:
            return _error(404, ["Issue does not exist or you do not have permission to see it."])
        wanted = (await request.json()).get("transition", {}).get("id")
        for i, _, to in TRANSITIONS[issue.status["statusCategory"]["key"]]:
            if i == wanted:
                self.move(issue, SERENO_ACCOUNT, to)
                return web.Response(status=204)
        return _error(400, [f"Transition id '{wanted}' is not valid for this issue."])

    # What people do in Jira, recorded as Jira records it.

    def _history(self, issue: Issue, account: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        issue.updated = datetime.now(UTC)
        made = {"id": self._next(), "author": _user(account), "created": _stamp(issue.updated),
                "items": items}  # fmt: skip
        issue.histories.append(made)
        return made

    def assign(self, issue: Issue, account: str, to: str | None) -> dict[str, Any]:
        before = issue.fields.get("assignee") or {}
        issue.fields["assignee"] = _user(to) if to else None
        return self._history(issue, account, [{
            "field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
            "from": before.get("accountId"), "fromString": before.get("displayName"),
            "to": to, "toString": ACCOUNTS[to] if to else None}])  # fmt: skip

    def move(self, issue: Issue, account: str, to: dict[str, Any]) -> dict[str, Any]:
        before = issue.status
        issue.status = dict(to)
        return self._history(issue, account, [{
            "field": "status", "fieldtype": "jira", "fieldId": "status",
            "from": "1", "fromString": before["name"],
            "to": "2", "toString": to["name"]}])  # fmt: skip

    def set_priority(self, issue: Issue, account: str, name: str) -> dict[str, Any]:
        before = (issue.fields.get("priority") or {}).get("name")
        issue.fields["priority"] = {"name": name}
        return self._history(issue, account, [{
            "field": "priority", "fieldtype": "jira", "fieldId": "priority",
            "from": None, "fromString": before, "to": None, "toString": name}])  # fmt: skip

    def say(self, issue: Issue, account: str, body: str) -> dict[str, Any]:
        issue.updated = datetime.now(UTC)
        made = {"id": self._next(), "author": _user(account), "body": body,
                "created": _stamp(issue.updated), "updated": _stamp(issue.updated)}  # fmt: skip
        issue.comments.append(made)
        return made

    def webhook(
        self, issue: Issue, account: str, *, history: dict[str, Any] | None = None,
        comment: dict[str, Any] | None = None,
    ) -> tuple[bytes, dict[str, str]]:  # fmt: skip
        """Jira's webhook body for one change, and its headers."""
        payload: dict[str, Any] = {
            "timestamp": int(time.time() * 1000),
            "user": _user(account),
            "issue": {"id": issue.id, "key": issue.key,
                      "fields": {**issue.fields, "status": issue.status}},
        }  # fmt: skip
        if comment is not None:
            payload |= {"webhookEvent": "comment_created", "comment": comment}
        else:
            payload |= {"webhookEvent": "jira:issue_updated",
                        "issue_event_type_name": "issue_generic",
                        "changelog": {"id": (history or {}).get("id"),
                                      "items": (history or {}).get("items", [])}}  # fmt: skip
        body = json.dumps(payload).encode()
        digest = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "X-Hub-Signature": "sha256=" + digest,
                      "X-Atlassian-Webhook-Identifier": self._next()}  # fmt: skip

    async def send_webhook(
        self, issue: Issue, account: str, *, history: dict[str, Any] | None = None,
        comment: dict[str, Any] | None = None,
    ) -> int:  # fmt: skip
        body, headers = self.webhook(issue, account, history=history, comment=comment)
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook_url, data=body, headers=headers) as response,
        ):
            return response.status
