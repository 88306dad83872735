"""A registry with something in every table, built through the HTTP API, and the neutral
dump of a registry's records and blobs that backups are compared by."""

from __future__ import annotations

import json
from typing import Any

from agentvault_registry.core.app import create_app
from agentvault_registry.storage_backends.backup import DERIVED_META_KEYS
from agentvault_registry.storage_backends.base import BlobBackend, RecordsBackend
from sample_cards import V1_CARD
from support import fast_registry, self_onboarded, sign_up

LIMITS = ("auth.login", "auth.register", "agents.create", "bootstrap.request")
PEERS = "/api/v1/admin/federation/peers"
ENDPOINT = "https://agents.example.net/a2a"


def registry_overrides(**storage: Any) -> dict[str, Any]:
    return fast_registry(
        LIMITS,
        plugins={"federation": {"allow_http": True, "allow_private_peers": True}},
        storage=storage,
    )


async def fill_registry(aiohttp_client, settings, pm) -> None:
    """Users (one admin), an API key, agents with and without a card, an update, a deleted
    agent, an unused and a consumed bootstrap token (with its agent key), a peer."""
    client = await aiohttp_client(create_app(settings, pm))
    admin = await sign_up(client, "grace", role="admin")
    ada = await sign_up(client, "ada")
    await sign_up(client, "unverified", verified=False)
    key = await client.post(
        "/api/v1/auth/api-keys", json={"name": "ci", "scopes": ["agents:read"]}, headers=ada.headers
    )
    assert key.status == 201, await key.text()
    carded = await client.post("/api/v1/agents", json={"card": V1_CARD}, headers=ada.headers)
    assert carded.status == 201, await carded.text()
    plain = await client.post(
        "/api/v1/agents",
        json={
            "name": "Weather Oracle",
            "description": "Forecasts.",
            "capabilities": ["forecast"],
            "apiEndpoints": ["https://weather.example.net/a2a"],
        },
        headers=ada.headers,
    )
    assert plain.status == 201, await plain.text()
    plain_id = (await plain.json())["id"]
    patched = await client.patch(
        f"/api/v1/agents/{plain_id}", json={"tags": ["weather"]}, headers=ada.headers
    )
    assert patched.status == 200, await patched.text()
    doomed = await client.post(
        "/api/v1/agents",
        json={"name": "Doomed", "description": "Gone.", "apiEndpoints": [ENDPOINT]},
        headers=ada.headers,
    )
    gone = await client.delete(f"/api/v1/agents/{(await doomed.json())['id']}", headers=ada.headers)
    assert gone.status == 204, await gone.text()
    unused = await client.post(
        "/api/v1/onboard/bootstrap/request-token", json={}, headers=ada.headers
    )
    assert unused.status == 201, await unused.text()
    await self_onboarded(
        client,
        ada.headers,
        {"name": "Self Made", "description": "Onboarded itself.", "apiEndpoints": [ENDPOINT]},
    )
    peer = await client.post(
        PEERS,
        json={
            "name": "Partner",
            "registry_url": "http://127.0.0.1:9/",
            "admin_contact": "ops@partner.example.org",
            "federation_access_token": "partner-token-" + "x" * 32,
        },
        headers=admin.headers,
    )
    assert peer.status == 201, await peer.text()
    await client.close()


async def dump(records: RecordsBackend, blobs: BlobBackend) -> dict[str, Any]:
    """Every exported table's neutral rows (sorted: the backends' collations differ) and
    every blob with its content type."""
    tables = await records.backup_tables()
    rows: dict[str, list[str]] = {table.name: [] for table in tables}
    async for table, row in records.export_rows(tables):
        if table == "registry_meta" and row["key"] in DERIVED_META_KEYS:
            continue  # who built the index, and when: each side's own
        rows[table].append(json.dumps(row, sort_keys=True))
    stored = {}
    async for key in blobs.list():
        blob = await blobs.get(key)
        stored[key] = (blob.info.content_type, blob.data)
    return {"tables": {name: sorted(found) for name, found in rows.items()}, "blobs": stored}
