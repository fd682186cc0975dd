"""GET /api/v1/openapi.json: every registered route, its minimum role (from the access
table), its request body (from the pydantic models) and its errors, as OpenAPI 3.1."""

from __future__ import annotations

import re

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from sereno.auth.admin import TokenRequest, UserChange, UserRequest
from sereno.auth.principal import Role
from sereno.auth.routes import Gate, rule_for
from sereno.incident_commands import AssignRequest, CommandRequest, CommentRequest
from sereno.silences import SilenceRequest

OPENAPI_PATH = "/api/v1/openapi.json"


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str = Field(description="The field, header or parameter at fault")
    problem: str


class ErrorBody(BaseModel):
    """Every error Sereno answers."""

    model_config = ConfigDict(frozen=True)

    error: str
    detail: list[Problem]


BODIES: dict[tuple[str, str], type[BaseModel]] = {
    ("POST", "/api/v1/incidents/{id}/ack"): CommandRequest,
    ("POST", "/api/v1/incidents/{id}/resolve"): CommandRequest,
    ("POST", "/api/v1/incidents/{id}/reopen"): CommandRequest,
    ("POST", "/api/v1/incidents/{id}/assign"): AssignRequest,
    ("POST", "/api/v1/incidents/{id}/comment"): CommentRequest,
    ("POST", "/api/v1/silences"): SilenceRequest,
    ("POST", "/api/v1/silences/preview"): SilenceRequest,
    ("POST", "/api/v1/users"): UserRequest,
    ("PATCH", "/api/v1/users/{name}"): UserChange,
    ("POST", "/api/v1/tokens"): TokenRequest,
}

_ERRORS = {
    "400": "The body or a parameter is wrong; detail names it",
    "401": "No credential, or a wrong, expired or revoked one",
    "403": "The credential's role is not enough, or a cross-site write",
    "404": "No such thing",
    "415": "A write whose body is not JSON",
    "422": "A well-formed body that cannot be done",
}
_SECURITY: dict[Gate, list[dict[str, list[str]]]] = {
    Gate.PUBLIC: [],
    Gate.LOCAL: [{}, {"bearer": []}, {"session": [], "csrf": []}],
    Gate.SOURCE: [{"sourceToken": []}],
}


def _operation(method: str, path: str, refs: dict[type[BaseModel], str]) -> dict[str, object]:
    rule = rule_for(method, path)
    if rule is None:
        raise LookupError(f"{method} {path} has no access rule")
    access = rule.access
    op: dict[str, object] = {
        "operationId": f"{rule.action}.{method.lower()}",
        "summary": rule.summary,
        "x-minimum-role": access.value,
        "x-group-scoped": rule.group_scoped,
        "security": (
            _SECURITY[access] if isinstance(access, Gate)
            else [{"bearer": []}, {"session": [], "csrf": []}]
        ),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", path)
        ],
        "responses": {"2XX": {"description": "Done"}} | {
            code: {"description": text, "content": {"application/json": {
                "schema": {"$ref": refs[ErrorBody]}}}}
            for code, text in _ERRORS.items()
        },
    }  # fmt: skip
    if isinstance(access, Role):
        op["description"] = f"Needs the {access} role" + (
            ", everywhere or in the incident's support group" if rule.group_scoped else ""
        )
    body = BODIES.get((method, path))
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": refs[body]}}},
        }
    return op


def build_openapi(app: web.Application) -> dict[str, object]:
    """The document for every route registered on `app`; LookupError for one with no
    access rule."""
    models: list[type[BaseModel]] = [ErrorBody, *dict.fromkeys(BODIES.values())]
    keys, schema = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    refs = {m: str(keys[(m, "validation")]["$ref"]) for m in models}
    paths: dict[str, dict[str, object]] = {}
    for route in app.router.routes():
        if route.resource is None or route.method in ("HEAD", "*"):
            continue
        path = route.resource.canonical
        paths.setdefault(path, {})[route.method.lower()] = _operation(route.method, path, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sereno", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "srn_ API token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sereno_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
                "sourceToken": {"type": "http", "scheme": "bearer",
                                "description": "the ingest source's own token or signature"},
            },
        },
    }  # fmt: skip


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(build_openapi(request.app))


def add_routes(app: web.Application) -> None:
    app.router.add_get(OPENAPI_PATH, get_openapi)
