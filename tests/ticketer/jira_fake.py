"""A local Jira (REST API v2) on loopback, answering as Atlassian documents it: create issue
(201 with id, key, self), JQL search by label, comments, transitions (204), the error body
`{"errorMessages": [...], "errors": {...}}`, 401 without the right credentials, 404 for an
unknown issue, and 429/503 with Retry-After while it is told to be unavailable."""

from __future__ import annotations

import base64
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

PROJECT = "OPS"
EMAIL = "ops@example.org"
TOKEN = "api-token"  # noqa: S105 - the fake's own credential
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
ISSUE_TYPES = ("Task", "Incident")
UNAUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
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

    async def start(self) -> str:
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/rest/api/2/issue", self.create)
        app.router.add_get("/rest/api/2/search", self.search)
        app.router.add_get("/rest/api/2/issue/{key}", self.get_issue)
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
        if not labels:
            return _error(400, [f"Error in the JQL Query: {jql!r}"])
        found = [
            i for i in self.issues.values()
            if labels[0] in i.fields["labels"] and (project is None or project[1] == PROJECT)
        ]  # fmt: skip
        issues = [{"id": i.id, "key": i.key, "fields": {"status": i.status}} for i in found]
        return web.json_response({"startAt": 0, "maxResults": 50, "total": len(issues),
                                  "issues": issues})  # fmt: skip

    async def get_issue(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        if issue is None:
            return _error(404, ["Issue does not exist or you do not have permission to see it."])
        return web.json_response({"id": issue.id, "key": issue.key,
                                  "fields": {**issue.fields, "status": issue.status}})  # fmt: skip

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
        made = {"id": str(20000 + len(issue.comments)), "body": body}
        issue.comments.append(made)
        return web.json_response(made, status=201)

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
                issue.status = dict(to)
                return web.Response(status=204)
        return _error(400, [f"Transition id '{wanted}' is not valid for this issue."])
