"""The OpenAPI document lists every registered route with its minimum role from the route
table, its request body from the pydantic models, and its errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from core.config import Settings
from sereno.app import create_app
from sereno.auth.routes import rule_for
from sereno.openapi import BODIES
from tests.sereno.auth.test_access_matrix import registered

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


async def test_every_registered_route_is_described(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    answer = await client.get("/api/v1/openapi.json")
    assert answer.status == 200
    document = await answer.json()
    assert document["openapi"].startswith("3.1")
    routes = registered(client.app)
    described = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert described == set(routes)
    for method, path in routes:
        operation = document["paths"][path][method.lower()]
        rule = rule_for(method, path)
        assert rule is not None
        assert operation["x-minimum-role"] == rule.access.value
        assert "401" in operation["responses"]
        assert operation["responses"]["400"]["content"]["application/json"]["schema"]
        if (method, path) in BODIES:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            name = ref.rsplit("/", 1)[1]
            assert name in document["components"]["schemas"], name
    silence = document["components"]["schemas"]["SilenceRequest"]
    assert "created_by" not in silence["properties"]
    assert "comment" in silence["required"]


def test_each_body_model_belongs_to_a_route_in_the_table() -> None:
    assert all(rule_for(method, path) is not None for method, path in BODIES)
