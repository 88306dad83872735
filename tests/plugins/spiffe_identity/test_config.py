"""The spiffe_identity plugin's config, checked before the registry starts; and the registry
running with the plugin disabled."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from pki import REGISTRY_SPIFFE_ID, TRUST_DOMAIN
from spiffe_helpers import files_source

from agentvault_registry.core.app import create_app
from agentvault_registry.core.errors import ConfigError
from agentvault_registry.plugins.spiffe_identity.appkeys import IDENTITY_SERVICE
from support import sign_up

SECTION = "plugins.spiffe_identity"
WORKLOAD_API = {"source": "workload_api", "trust_domain": TRUST_DOMAIN}
FILES = {"cert": "/run/spire/svid.pem", "key": "/run/spire/key.pem", "bundle": "/run/b.pem"}


def problems_of(make_settings, options: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        make_settings({"plugins": {"spiffe_identity": options}})
    return raised.value.problems


@pytest.mark.parametrize(
    ("options", "key", "says"),
    [
        ({"source": "workload_api"}, "trust_domain", "required with a SPIFFE source"),
        (
            {"source": "files", "files": FILES},
            "trust_domain",
            "required with a SPIFFE source",
        ),
        ({"source": "files", "trust_domain": TRUST_DOMAIN}, "files", "required"),
        ({"serve_tls": True}, "source", "needs a SPIFFE source"),
        ({"federation_mtls": True}, "source", "needs a SPIFFE source"),
        (
            {"source": "none", "serve_tls": True, "federation_mtls": True},
            "source",
            "needs a SPIFFE source",
        ),
        (WORKLOAD_API | {"federation_mtls": True}, "federation_mtls", "needs serve_tls"),
        ({"source": "spire"}, "source", "Must be one of"),
    ],
)
def test_missing_and_contradictory_settings_stop_startup(make_settings, options, key, says):
    problems = problems_of(make_settings, options)
    [problem] = [line for line in problems if line.startswith(f"{SECTION}.{key}")]
    assert says in problem


@pytest.mark.parametrize(
    "spiffe_id",
    [
        "spiffe://other.example/service/registry-backend",
        "spiffe://example.org.evil/service/registry-backend",
        "spiffe://example.orgx/service",
        "spiffe://example.org",
        "spiffe://example.org/",
        "spiffe://example.org/service//registry",
        "spiffe://example.org/service/../admin",
        "spiffe://example.org/./service",
        "https://example.org/service/registry-backend",
        "example.org/service/registry-backend",
    ],
)
def test_a_spiffe_id_outside_the_trust_domain_is_refused(make_settings, spiffe_id):
    [problem] = problems_of(make_settings, WORKLOAD_API | {"spiffe_id": spiffe_id})
    assert problem.startswith(f"{SECTION}.spiffe_id"), problem
    assert f"must be a SPIFFE ID in {TRUST_DOMAIN}" in problem


def test_the_spiffe_id_defaults_to_the_registry_backend_service(make_settings):
    settings, _ = make_settings(
        {"plugins": {"spiffe_identity": WORKLOAD_API | {"endpoint_socket": "unix:///x.sock"}}}
    )
    assert settings.plugin_config("spiffe_identity")["spiffe_id"] == REGISTRY_SPIFFE_ID
    custom = "spiffe://example.org/ns/prod/sa/registry"
    settings, _ = make_settings(
        {"plugins": {"spiffe_identity": WORKLOAD_API | {"spiffe_id": custom}}}
    )
    assert settings.plugin_config("spiffe_identity")["spiffe_id"] == custom


@pytest.mark.parametrize(
    "trust_domain",
    ["Example.org", "EXAMPLE.ORG", "example .org", "example.org ", "", "spiffe://example.org"],
)
def test_an_invalid_trust_domain_is_refused(make_settings, trust_domain):
    [problem] = problems_of(make_settings, WORKLOAD_API | {"trust_domain": trust_domain})
    assert problem.startswith(f"{SECTION}.trust_domain"), problem
    assert "Not a trust domain" in problem


@pytest.mark.parametrize(
    "agent_path", ["agent", "/agent/", "/", "", "/agent/../admin", "/./agent", "/agent id", "//a"]
)
def test_an_agent_path_that_is_not_a_spiffe_path_is_refused(make_settings, agent_path):
    [problem] = problems_of(make_settings, WORKLOAD_API | {"agent_path": agent_path})
    assert problem.startswith(f"{SECTION}.agent_path"), problem
    assert "SPIFFE ID path" in problem


@pytest.mark.parametrize(
    ("options", "key"),
    [
        (WORKLOAD_API | {"endpoint": "unix:///x"}, f"{SECTION}.endpoint"),
        (WORKLOAD_API | {"audience": ["x"]}, f"{SECTION}.audience"),
        (
            {"source": "files", "trust_domain": TRUST_DOMAIN, "files": FILES | {"svid": "/x"}},
            f"{SECTION}.files.svid",
        ),
    ],
)
def test_unknown_keys_are_refused(make_settings, options, key):
    [problem] = problems_of(make_settings, options)
    assert problem.startswith(key), problem
    assert "Unknown field" in problem


@pytest.mark.parametrize(
    ("options", "key"),
    [
        (WORKLOAD_API | {"reload_interval": 0}, "reload_interval"),
        (WORKLOAD_API | {"fetch_timeout": 0}, "fetch_timeout"),
        (WORKLOAD_API | {"audiences": [""]}, "audiences"),
        (WORKLOAD_API | {"serve_tls": "sometimes"}, "serve_tls"),
        ({"source": "files", "trust_domain": TRUST_DOMAIN, "files": {"cert": "/x"}}, "files.key"),
    ],
)
def test_bad_values_are_refused_naming_the_option(make_settings, options, key):
    problems = problems_of(make_settings, options)
    assert any(problem.startswith(f"{SECTION}.{key}") for problem in problems), problems


async def test_workload_api_without_a_socket_stops_startup_naming_endpoint_socket(
    make_settings, monkeypatch
):
    monkeypatch.delenv("SPIFFE_ENDPOINT_SOCKET", raising=False)
    settings, pm = make_settings({"plugins": {"spiffe_identity": WORKLOAD_API}})
    runner = web.AppRunner(create_app(settings, pm))
    try:
        with pytest.raises(ConfigError) as raised:
            await runner.setup()
    finally:
        await runner.cleanup()
    [problem] = raised.value.problems
    assert problem.startswith(f"{SECTION}.endpoint_socket"), problem
    assert "SPIFFE_ENDPOINT_SOCKET" in problem


async def test_workload_api_falls_back_to_spiffe_endpoint_socket(
    aiohttp_client, make_settings, monkeypatch, fake_workload_api
):
    monkeypatch.setenv("SPIFFE_ENDPOINT_SOCKET", fake_workload_api.endpoint)
    settings, pm = make_settings({"plugins": {"spiffe_identity": WORKLOAD_API}})
    client = await aiohttp_client(create_app(settings, pm))
    service = client.app[IDENTITY_SERVICE]
    assert service.source.kind == "workload_api"
    assert service.material.svid is not None
    assert str(service.material.svid.spiffe_id) == REGISTRY_SPIFFE_ID


# ------------------------------------------------------------------ plugin disabled


async def test_the_registry_runs_with_the_plugin_disabled(
    aiohttp_client, make_settings, svid_files, jwt_authority
):
    settings, pm = make_settings(
        {
            "plugins": {
                "disabled": ["spiffe_identity"],
                "auth": {"bcrypt_cost": 4},
                # A section for the disabled plugin is kept, and acts on nothing.
                "spiffe_identity": files_source(svid_files),
            }
        }
    )
    assert pm.get_plugin("spiffe_identity") is None
    client = await aiohttp_client(create_app(settings, pm))
    assert IDENTITY_SERVICE not in client.app

    assert (await client.get("/health")).status == 200
    ready = await client.get("/ready")
    assert ready.status == 200, await ready.text()
    assert "spiffe_identity" not in (await ready.json())["checks"]

    admin = (await sign_up(client, "root", verified=False, role="admin")).headers
    missing = await client.get("/api/v1/identity", headers=admin)
    assert missing.status == 404
    assert (await missing.json())["error"] == "not_found"
    spec = await (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/identity" not in spec["paths"]

    agent = await client.post(
        "/api/v1/agents",
        json={
            "name": "Echo",
            "description": "Echoes.",
            "apiEndpoints": ["https://echo.example.com/a2a"],
        },
        headers=admin,
    )
    assert agent.status == 201, await agent.text()
    agent_id = (await agent.json())["id"]
    svid = jwt_authority.issue_jwt_svid(
        f"spiffe://{TRUST_DOMAIN}/agent/{agent_id}", REGISTRY_SPIFFE_ID
    )
    response = await client.patch(
        f"/api/v1/agents/{agent_id}",
        json={"description": "By JWT-SVID."},
        headers={"Authorization": f"Bearer {svid}"},
    )
    assert response.status == 401, await response.text()
    assert (await response.json())["error"] == "authentication_required"


def test_every_cross_field_problem_is_reported_at_once(make_settings):
    with pytest.raises(ConfigError) as refused:
        make_settings(
            {"plugins": {"spiffe_identity": {"source": "files", "federation_mtls": True}}}
        )
    problems = "\n".join(refused.value.problems)
    for key in ("trust_domain", "files", "federation_mtls"):
        assert f"plugins.spiffe_identity.{key}" in problems, problems
