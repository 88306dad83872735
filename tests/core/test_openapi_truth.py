"""The OpenAPI document tells the truth about answers the API fuzzing found undocumented
(tests/reliability/test_api_fuzz.py): each test sends the request and reads the document."""

from __future__ import annotations

from support import self_onboarded, sign_up

OPENAPI = "/api/v1/openapi.json"


async def _document(client) -> dict:
    return await (await client.get(OPENAPI)).json()


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


async def test_every_minimum_and_maximum_is_a_number(client):
    # apispec wrote Pricing.base_price's Range(min=0) through the Decimal field, as "0": a
    # schema schemathesis (or any JSON Schema validator) refuses.
    document = await _document(client)
    bounds = [
        (key, node[key])
        for node in _walk(document)
        for key in ("minimum", "maximum")
        if key in node and not isinstance(node.get("properties"), dict)
    ]
    assert bounds
    assert [b for b in bounds if isinstance(b[1], bool) or not isinstance(b[1], int | float)] == []
    price = document["components"]["schemas"]["Pricing"]["properties"]["base_price"]
    assert price == {"type": ["number", "string"], "minimum": 0}


async def test_a_refused_query_is_a_documented_422(client):
    answer = await client.get("/api/v1/agents/changes", params={"limit": "many"})
    assert answer.status == 422
    responses = (await _document(client))["paths"]["/api/v1/agents/changes"]["get"]["responses"]
    assert "422" in responses


async def test_a_matching_etag_is_a_documented_304(client):
    developer = await sign_up(client, "etagger")
    created = await client.post(
        "/api/v1/agents",
        json={
            "name": "Etag Agent",
            "description": "Answers 304 when asked twice.",
            "apiEndpoints": ["https://etag.example.com/a2a"],
        },
        headers=developer.headers,
    )
    agent_id = (await created.json())["id"]
    paths = (await _document(client))["paths"]
    for path in (f"/api/v1/agents/{agent_id}", f"/api/v1/agents/{agent_id}/card"):
        first = await client.get(path)
        again = await client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status == 304, path
    for documented in ("/api/v1/agents/{agent_id}", "/api/v1/agents/{agent_id}/card"):
        assert "304" in paths[documented]["get"]["responses"], documented
    assert "304" in paths["/api/v1/discovery/agents"]["get"]["responses"]


async def test_owner_me_without_credentials_or_the_read_scope_is_documented(client):
    anonymous = await client.get("/api/v1/agents", params={"owner": "me"})
    assert anonymous.status == 401
    developer = await sign_up(client, "agentowner")
    onboarded = await self_onboarded(
        client,
        developer.headers,
        {
            "name": "Own Key",
            "description": "Calls with its own key.",
            "apiEndpoints": ["https://own-key.example.com/a2a"],
        },
    )
    agent_key = {"X-API-Key": onboarded["credentials"]["api_key"]}
    by_agent = await client.get("/api/v1/agents", params={"owner": "me"}, headers=agent_key)
    assert by_agent.status == 403
    responses = (await _document(client))["paths"]["/api/v1/agents"]["get"]["responses"]
    assert {"401", "403"} <= set(responses)


async def test_the_http_parsers_plain_text_400_is_documented_everywhere(client):
    answer = await client.get("/api/v1/discovery/agents", params={"q": "x" * 9000})
    assert answer.status == 400
    assert answer.content_type == "text/plain"
    for operations in (await _document(client))["paths"].values():
        for operation in operations.values():
            assert "text/plain" in operation["responses"]["400"]["content"]


def _resolve(document: dict, pointer: str) -> dict:
    node = document
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


async def test_created_keys_and_tokens_link_to_their_revocation(client):
    # Neither has a GET of its own for a Location header to name: the document links the
    # creation to the revocation, and following the link revokes what was created.
    developer = await sign_up(client, "linker")
    document = await _document(client)
    creations = {
        "/api/v1/auth/api-keys": {"name": "ci", "scopes": ["agents:read"]},
        "/api/v1/onboard/bootstrap/request-token": {},
    }
    for path, body in creations.items():
        created = await client.post(path, json=body, headers=developer.headers)
        assert created.status == 201, await created.text()
        (link,) = document["paths"][path]["post"]["responses"]["201"]["links"].values()
        target = _resolve(document, link["operationRef"])
        assert "204" in target["responses"]
        ((name, expression),) = link["parameters"].items()
        assert expression == "$response.body#/id"
        revoke_path = next(
            p for p, operations in document["paths"].items() if operations.get("delete") is target
        )
        answer = await client.delete(
            revoke_path.replace(f"{{{name}}}", (await created.json())["id"]),
            headers=developer.headers,
        )
        assert answer.status == 204, revoke_path


async def test_the_documented_agent_example_is_accepted(client):
    developer = await sign_up(client, "exemplary")
    document = await _document(client)
    content = document["paths"]["/api/v1/agents"]["post"]["requestBody"]["content"]
    created = await client.post(
        "/api/v1/agents", json=content["application/json"]["example"], headers=developer.headers
    )
    assert created.status == 201, await created.text()
    assert created.headers["Location"] == f"/api/v1/agents/{(await created.json())['id']}"


async def test_an_over_long_api_key_id_is_a_documented_json_400(client):
    developer = await sign_up(client, "longid")
    answer = await client.delete("/api/v1/auth/api-keys/" + "k" * 65, headers=developer.headers)
    assert answer.status == 400
    assert answer.content_type == "application/json"
    responses = (await _document(client))["paths"]["/api/v1/auth/api-keys/{key_id}"]["delete"]
    assert "application/json" in responses["responses"]["400"]["content"]


async def test_an_explained_search_answers_what_the_document_says(client):
    # Found by the API fuzzing: results of explain=true carried an undocumented "explain".
    jsonschema = __import__("jsonschema")
    developer = await sign_up(client, "explainer")
    created = await client.post(
        "/api/v1/agents",
        json={
            "name": "Explained Echo",
            "description": "Echoes, and says why it matched.",
            "apiEndpoints": ["https://explained.example.com/a2a"],
            "capabilities": ["echo"],
        },
        headers=developer.headers,
    )
    assert created.status == 201
    document = await _document(client)
    schema = {"$ref": "#/components/schemas/DiscoveryResponse", **document}
    answer = await client.get(
        "/api/v1/discovery/agents",
        params={"q": "echo", "explain": "true", "capabilities": "echo", "prefer": "verified"},
    )
    assert answer.status == 200, await answer.text()
    body = await answer.json()
    assert body["agents"] and "explain" in body["agents"][0]
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)
