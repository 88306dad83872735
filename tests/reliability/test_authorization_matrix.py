"""Every route x every identity x {own object, another's}: each cell's answer is the one
``authorization_table`` declares, and the table declares exactly the routes the app has."""

from __future__ import annotations

import pytest
from authorization_table import IDENTITIES, OWNERS, TABLE
from authorization_world import World, app_overrides, declared_answer

from agent_origins import AgentOrigin, card_at
from agentvault_registry.core.ratelimit import declared_rate_limits
from fake_teg import FakeTeg
from support import merged


def registered_routes(app) -> set[tuple[str, str]]:
    return {(route.method, route.resource.canonical) for route in app.router.routes()}


def declared_routes() -> set[tuple[str, str]]:
    return {(method, row.path) for row in TABLE for method in row.methods}


def every_rate_limit(make_settings) -> tuple[str, ...]:
    _, pm = make_settings()
    return tuple(declared_rate_limits(pm))


def test_the_table_declares_exactly_the_routes_of_the_app(make_settings, make_app):
    overrides = app_overrides("http://127.0.0.1:9/token", every_rate_limit(make_settings))
    registered = registered_routes(make_app(overrides))
    declared = declared_routes()
    assert not registered - declared, f"routes the table does not declare: {registered - declared}"
    assert not declared - registered, f"declared routes the app lacks: {declared - registered}"
    assert len(declared) == sum(len(row.methods) for row in TABLE), "a route declared twice"


@pytest.fixture
async def agent_origin():
    origin = await AgentOrigin().start()
    origin.card = card_at(origin.url)
    yield origin
    await origin.stop()


@pytest.fixture
async def fake_teg():
    teg = await FakeTeg().start()
    yield teg
    await teg.close()


async def test_every_cell_answers_as_the_table_declares(
    records_overrides, aiohttp_client, make_settings, make_app, agent_origin, fake_teg
):
    # records_overrides first: its database outlives the client that uses it.
    limits = every_rate_limit(make_settings)
    overrides = merged(app_overrides(fake_teg.url, limits), {"storage": records_overrides})
    client = await aiohttp_client(make_app(overrides))
    fake_teg.jwks_url = str(client.make_url("/.well-known/jwks.json"))
    world = await World.build(client, agent_origin)
    mismatches, cells = [], 0
    for row in TABLE:
        for method in row.methods:
            for column in ("own", "other") if row.target else ("own",):
                for identity, expected in zip(IDENTITIES, row.expected(column), strict=True):
                    call = await world.call(row, method, identity, column)
                    status, code, body = await world.answer(call, stream=row.stream)
                    cells += 1
                    cell = f"{method} {row.path} [{identity}, {column}]"
                    want = declared_answer(expected, method)
                    got = status if isinstance(want, int) else (status, code)
                    if got != want:
                        mismatches.append(f"{cell}: declared {want}, answered {(status, code)}")
                    if row.lists and status == 200:
                        others = world.object_of(OWNERS[identity][1], row.lists)
                        if others in body:
                            mismatches.append(f"{cell}: lists {others}, another's {row.lists}")
    assert not mismatches, f"{len(mismatches)} of {cells} cells differ:\n" + "\n".join(mismatches)
