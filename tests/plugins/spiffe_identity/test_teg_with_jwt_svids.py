"""The TEG bridge with SPIFFE on: an agent that authenticates with its JWT-SVID gets a TEG
token exchanged for a JWT-SVID the Workload API issued it for the TEG, not for a
registry-signed assertion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_workload_api import FakeWorkloadApi
from pki import REGISTRY_SPIFFE_ID, JwtAuthority

from fake_teg import FakeTeg
from registry_harness import Registry, registries

TOKEN = "/api/v1/teg/token"


@pytest.fixture
async def teg(jwt_authority: JwtAuthority) -> AsyncIterator[FakeTeg]:
    # A TEG in the same trust domain verifies agents' JWT-SVIDs with the domain's JWT key;
    # a JWT-SVID carries neither iss, nbf nor jti.
    fake = FakeTeg(
        trusted_keys={jwt_authority.kid: jwt_authority.public_key},
        required_claims=("sub", "aud", "exp"),
    )
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def registry(
    make_settings, tmp_path: Path, fake_workload_api: FakeWorkloadApi, teg: FakeTeg
) -> AsyncIterator[Registry]:
    overrides = {
        "plugins": {
            "spiffe_identity": {
                "source": "workload_api",
                "trust_domain": "example.org",
                "endpoint_socket": fake_workload_api.endpoint,
            },
            "teg_bridge": {"token_url": teg.url, "allow_http": True, "allow_private": True},
        },
    }
    async with registries(make_settings, tmp_path) as start:
        yield await start("Registry", overrides)


async def agent_with_svid(registry: Registry, jwt_authority: JwtAuthority) -> tuple[str, str]:
    """An agent's SPIFFE ID, and a JWT-SVID of it for this registry."""
    developer = await registry.account("dev")
    agent = await registry.add_agent(developer, "Trader")
    spiffe_id = f"spiffe://example.org/agent/{agent['id']}"
    return spiffe_id, jwt_authority.issue_jwt_svid(spiffe_id, REGISTRY_SPIFFE_ID)


async def test_an_agent_with_a_jwt_svid_gets_a_teg_token_for_a_jwt_svid(
    registry: Registry,
    fake_workload_api: FakeWorkloadApi,
    jwt_authority: JwtAuthority,
    teg: FakeTeg,
) -> None:
    spiffe_id, svid = await agent_with_svid(registry, jwt_authority)
    fake_workload_api.entitle({spiffe_id})

    token = await registry.json("POST", TOKEN, headers={"Authorization": f"Bearer {svid}"}, json={})

    assert token["access_token"] == "teg-access-1"
    assert token["scope"] == "agent:economics agent:reputation"
    (call,) = teg.issued
    # What the TEG verified is a JWT-SVID of the agent for the TEG, signed by the domain.
    assert call.assertion_header["kid"] == jwt_authority.kid
    assert call.claims["sub"] == spiffe_id
    assert call.claims["aud"] in (teg.url, [teg.url])
    (request,) = fake_workload_api.requests_for("FetchJWTSVID")
    assert request.spiffe_id == spiffe_id
    assert list(request.audience) == [teg.url]


async def test_an_agent_identity_spire_does_not_entitle_us_to_is_a_502(
    registry: Registry, jwt_authority: JwtAuthority, teg: FakeTeg
) -> None:
    _, svid = await agent_with_svid(registry, jwt_authority)

    response = await registry.request(
        "POST", TOKEN, headers={"Authorization": f"Bearer {svid}"}, json={}
    )

    assert response.status == 502
    body = await response.json()
    assert body["error"] == "svid_refused"
    assert body["details"] == {}
    assert teg.calls == []
