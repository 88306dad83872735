"""Health, readiness, OpenAPI, Swagger UI and the registry's own agent card."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from agentvault_registry import hookimpl
from agentvault_registry.core import ops
from agentvault_registry.core.appkeys import INSTANCE_ID
from agentvault_registry.core.errors import PluginError
from agentvault_registry.core.openapi import documented_routes

A2A_CARD_REQUIRED = {
    "name",
    "description",
    "supportedInterfaces",
    "version",
    "capabilities",
    "defaultInputModes",
    "defaultOutputModes",
    "skills",
}


async def test_health_answers_without_touching_backends(client):
    response = await client.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_ready_reports_every_backend(client):
    response = await client.get("/ready")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"records": "ok", "cache": "ok", "blobs": "ok"}
    assert body["instance_id"] == client.app[INSTANCE_ID]


class FlakyDependency:
    def __init__(self):
        self.healthy = True

    @hookimpl
    def register_readiness_checks(self, app):
        async def upstream():
            if not self.healthy:
                raise ConnectionError("upstream refused")

        return {"upstream": upstream}


async def test_a_failing_plugin_check_makes_ready_503_naming_it(aiohttp_client, make_app):
    dependency = FlakyDependency()
    client = await aiohttp_client(make_app(plugins=[("flaky", dependency)]))
    assert (await client.get("/ready")).status == 200
    dependency.healthy = False
    response = await client.get("/ready")
    assert response.status == 503
    assert int(response.headers["Retry-After"]) >= 1
    body = await response.json()
    assert body["error"] == "not_ready"
    assert body["details"]["checks"]["upstream"] == "failed (ConnectionError)"
    assert "upstream refused" not in await response.text()
    assert body["details"]["checks"]["records"] == "ok"


class SlowDependency:
    """Registers its checks through an awaitable, and the check itself hangs."""

    @hookimpl
    def register_readiness_checks(self, app):
        async def hang():
            await asyncio.sleep(60)

        async def checks():
            return {"slow": hang}

        return checks()


async def test_a_hung_plugin_check_fails_within_the_timeout(aiohttp_client, make_app, monkeypatch):
    monkeypatch.setattr(ops, "CHECK_TIMEOUT", 0.2)
    client = await aiohttp_client(make_app(plugins=[("slow", SlowDependency())]))
    response = await client.get("/ready")
    assert response.status == 503
    assert (await response.json())["details"]["checks"]["slow"] == "no answer within 0.2s"


async def test_openapi_is_3_1_and_documents_the_ops_routes(client):
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    spec = await response.json()
    assert spec["openapi"] == "3.1.0"
    assert {"/health", "/ready", "/.well-known/agent-card.json"} <= set(spec["paths"])
    assert "Error" in spec["components"]["schemas"]
    ready = spec["paths"]["/ready"]["get"]["responses"]
    assert ready["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


class ExtraRoutes:
    @hookimpl
    def register_routes(self, settings):
        from marshmallow import Schema, fields

        from agentvault_registry.core.openapi import api_doc

        class ThingSchema(Schema):
            name = fields.String(required=True)

        @api_doc(
            "Create a thing",
            tags=["things"],
            body=ThingSchema,
            response=ThingSchema,
            status=201,
            auth=True,
            errors=[409],
        )
        async def create_thing(request):
            return web.json_response({}, status=201)

        return [web.post("/api/v1/things/{thing_id}", create_thing)]


async def test_plugin_routes_appear_in_openapi_with_their_schemas(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(plugins=[("things", ExtraRoutes())]))
    spec = await (await client.get("/api/v1/openapi.json")).json()
    operation = spec["paths"]["/api/v1/things/{thing_id}"]["post"]
    assert operation["parameters"][0]["name"] == "thing_id"
    assert "requestBody" in operation
    assert {"201", "401", "409", "422", "503"} <= set(operation["responses"])
    assert operation["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}]
    assert "Thing" in spec["components"]["schemas"]


def test_every_public_api_route_is_documented(make_app):
    app = make_app()
    undocumented = [
        f"{method} {path}"
        for method, path, _, doc in documented_routes(app)
        if doc is None and (path.startswith("/api/v1") or path in {"/health", "/ready"})
    ]
    assert undocumented == []


async def test_swagger_ui_is_served_from_vendored_assets(client):
    page = await client.get("/api/docs")
    assert page.status == 200
    text = await page.text()
    assert "/api/docs/static/swagger/swagger-ui-bundle.js" in text
    assert "https://" not in text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    bundle = await client.get("/api/docs/static/swagger/swagger-ui-bundle.js")
    assert bundle.status == 200
    assert len(await bundle.read()) > 100_000
    assert (await client.get("/api/docs/static/docs.js")).status == 200


async def test_the_registry_card_is_a_valid_a2a_1_0_card(client):
    response = await client.get("/.well-known/agent-card.json")
    assert response.status == 200
    card = await response.json()
    assert set(card) >= A2A_CARD_REQUIRED
    [interface] = card["supportedInterfaces"]
    assert interface["url"].startswith(f"http://{client.host}:{client.port}/api/v1")
    assert interface["protocolBinding"] == "HTTP+JSON"
    assert interface["protocolVersion"] == "1.0"
    for skill in card["skills"]:
        assert {"id", "name", "description", "tags"} <= set(skill)
        assert isinstance(skill["tags"], list) and skill["tags"]
    assert card["skills"][0]["id"] == "agent-discovery"


class SkillfulPlugin:
    @hookimpl
    def register_card_skills(self, settings):
        return [
            {"id": "onboarding", "name": "Onboarding", "description": "d", "tags": ["x"]},
            {"id": "agent-discovery", "name": "dup", "description": "d", "tags": ["x"]},
        ]


async def test_plugins_add_skills_to_the_registry_card(aiohttp_client, make_app):
    client = await aiohttp_client(
        make_app(
            {"server": {"public_url": "https://registry.example.org"}},
            plugins=[("skillful", SkillfulPlugin())],
        )
    )
    response = await client.get("/.well-known/agent-card.json")
    card = await response.json()
    assert [skill["id"] for skill in card["skills"]] == ["agent-discovery", "onboarding"]
    assert card["supportedInterfaces"][0]["url"] == "https://registry.example.org/api/v1"
    assert response.headers["Cache-Control"] == "public, max-age=300"


async def test_a_card_derived_from_the_host_header_is_not_publicly_cacheable(client):
    response = await client.get("/.well-known/agent-card.json")
    assert response.headers["Cache-Control"].startswith("private")


class BrokenSkillPlugin:
    @hookimpl
    def register_card_skills(self, settings):
        return [{"name": "No id", "description": "d", "tags": ["x"]}]


def test_a_malformed_contributed_skill_stops_startup_naming_the_plugin(make_app):
    with pytest.raises(PluginError, match="plugin 'broken' contributes an invalid skill"):
        make_app(plugins=[("broken", BrokenSkillPlugin())])


async def test_the_landing_page_links_to_the_docs(client):
    response = await client.get("/")
    assert response.status == 200
    assert 'href="/api/docs"' in await response.text()


async def test_the_landing_page_is_gone_when_webui_is_disabled(aiohttp_client, make_app):
    client = await aiohttp_client(make_app({"plugins": {"disabled": ["webui"]}}))
    assert (await client.get("/")).status == 404
    assert (await client.get("/health")).status == 200


class PublishingPlugin:
    def __init__(self, *keys):
        self.keys = keys

    @hookimpl
    def register_public_keys(self, app):
        async def published():
            return list(self.keys)

        return published()


async def test_the_jwk_set_holds_every_plugins_public_keys_once(aiohttp_client, make_app, caplog):
    first = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    second = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}
    client = await aiohttp_client(
        make_app(
            {"plugins": {"disabled": ["teg_bridge", "card_trust"]}},
            plugins=[
                ("publisher", PublishingPlugin(first | {"kid": "a"}, second | {"kid": "b"})),
                ("copycat", PublishingPlugin(second | {"kid": "a"})),
            ],
        )
    )

    response = await client.get("/.well-known/jwks.json")

    assert response.status == 200
    keys = (await response.json())["keys"]
    assert sorted(key["kid"] for key in keys) == ["a", "b"]
    # Whichever plugin pluggy asks first keeps the kid; the other key under it is dropped,
    # never served beside it, and the clash is logged.
    assert len(keys) == 2
    assert "kid 'a'" in caplog.text
    assert response.headers["Cache-Control"] == "public, max-age=300"


async def test_the_jwk_set_is_empty_when_nothing_signs(aiohttp_client, make_app):
    client = await aiohttp_client(make_app({"plugins": {"disabled": ["teg_bridge", "card_trust"]}}))
    response = await client.get("/.well-known/jwks.json")
    assert await response.json() == {"keys": []}
