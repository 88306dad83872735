"""Parser fuzzing, CI-bounded (F11 item 5): every input parses or is refused as documented.

The strategies and properties live in ``parser_fuzz`` and are shared with the long run
(``bench/fuzz_parsers.py``: atheris and hypothesis with many more examples). Here each target
runs a fixed, derandomized budget so the file stays within ~45 s on two cores; the last test
posts a handful of the generated worst cases through the real API: 4xx JSON, never a 500.
"""

from __future__ import annotations

import copy
import json

import pytest

from parser_fuzz import (
    ConfigInput,
    Mutation,
    check_card,
    check_config,
    check_query,
    deeply_nested,
    mutate,
    property_test,
)
from sample_cards import V03_CARD, V1_CARD
from support import sign_up

#: Examples per target: together about 30 s of the ~45 s budget on the shared machine.
BUDGET = {"card": 600, "query": 600, "config": 120}


@pytest.mark.parametrize("target", sorted(BUDGET))
def test_no_input_escapes_the_documented_errors(target):
    outcomes: dict[str, int] = {}
    property_test(target, max_examples=BUDGET[target], outcomes=outcomes, derandomize=True)()
    # Both sides were reached: a fuzzer that only ever produced refusals (or only valid
    # input) would prove little about the parser behind the first check.
    accepted = outcomes.get("accepted", 0)
    assert accepted and sum(outcomes.values()) > accepted, outcomes


# ------------------------------------------------------------ regressions found by fuzzing


def test_a_card_with_an_unpaired_surrogate_is_refused_not_a_crash():
    """Found by the card fuzzer: ``"\\ud800"`` is a legal JSON escape (a fetched card, or a
    card parsed elsewhere) but no text; encoding it raised UnicodeEncodeError."""
    card = copy.deepcopy(V1_CARD)
    card["name"] = "Trans\ud800lator"
    assert check_card(card) == "refused"
    assert check_card(json.dumps(card)) == "refused"  # the escape, as JSON text
    assert check_card('{"name": "x\\udfff"}') == "refused"
    assert check_card("Trans\ud800lator") == "refused"  # text that cannot be UTF-8


def test_a_secret_file_path_with_nul_is_a_config_error(tmp_path):
    """Found by the config fuzzer: ``{ file = "a\\u0000b" }`` (legal TOML) made open() raise
    ValueError instead of a ConfigError naming the key."""
    config = ConfigInput(
        file='[security]\njwt_secret = { file = "a\\u0000b" }\n',
        environ={"AVREG_MODE": "development"},
        overrides={},
    )
    assert check_config(config) == "refused"


def test_an_unresolved_secret_under_a_dotted_or_empty_key_is_a_config_error():
    """Found by the config fuzzer: removing an unresolved reference split its dotted name
    again, so a key holding a dot (a rate_limits name) or an empty key raised KeyError."""
    for overrides in (
        {"": {"env": "MISSING"}},
        {"plugins": {"a.b": {"file": "/nonexistent"}}},
        {"rate_limits": {"auth.login": {"env": "MISSING"}}},
    ):
        config = ConfigInput(file=None, environ={"AVREG_MODE": "development"}, overrides=overrides)
        assert check_config(config) == "refused", overrides


def test_query_parsers_refuse_wrong_types_and_foreign_cursors():
    assert check_query(("search", {"page": 10**400})) == "refused 422"
    assert check_query(("search", {"filters": {"capabilities": {"any": [None]}}})) == (
        "refused 422"
    )
    assert check_query(("agents", {"cursor": "WyJuYW1lIiwxXQ"})) == "refused 400"


# ---------------------------------------------------------------- through the real API


def _worst_cards() -> list[object]:
    """Generated worst cases: mutations of real cards into wrong types, huge and deep
    values, unicode, NUL, and documents that are not objects at all."""
    mutations = [
        Mutation(0, "replace", 0, "name", "\x00"),
        Mutation(0, "add", 0, "skills", "not a list"),
        Mutation(0, "add", 0, "supportedInterfaces", [{"url": 3}]),
        Mutation(0, "add", 0, "description", "x" * 300_000),
        Mutation(0, "add", 0, "capabilities", deeply_nested(300)),
        Mutation(0, "add", 0, "\u202eevil", {"\U0001d518": "\ufeff"}),
        Mutation(0, "rename", 1, "url", "https://"),
        Mutation(0, "wrap", 1, "name", None),
    ]
    cards: list[object] = [mutate(V1_CARD, mutation) for mutation in mutations]
    cards += [mutate(V03_CARD, Mutation(0, "add", 0, "additionalInterfaces", {"a": 1}))]
    return [*cards, [], "card", None, 10**30]


async def test_generated_worst_cases_are_4xx_json_through_the_api(aiohttp_client, make_app):
    client = await aiohttp_client(make_app())
    developer = await sign_up(client, "fuzzer")
    posts = [
        ("/api/v1/agents", {"name": "Fuzzed", "description": "A fuzzed card.", "card": card})
        for card in _worst_cards()
    ]
    posts += [
        ("/api/v1/discovery/search", {"page": 10**400}),
        ("/api/v1/discovery/search", {"filters": {"capabilities": {"any": [None]}}}),
        ("/api/v1/discovery/search", {"q": deeply_nested(100), "cursor": "WyJuYW1lIiwxXQ"}),
    ]
    for path, body in posts:
        response = await client.post(path, data=json.dumps(body), headers=developer.headers)
        answer = await response.json()
        assert 400 <= response.status < 500, (path, response.status, answer)
        assert {"error", "message", "details"} <= set(answer), answer
    # Raw bodies the JSON reader must refuse: an unpaired surrogate escape, a NUL escape in
    # a key, and bytes that are not UTF-8.
    for raw in (b'{"name": "\\ud800"}', b'{"\\u0000": 1}', b"\xff\xfe{}"):
        response = await client.post(
            "/api/v1/agents",
            data=raw,
            headers={**developer.headers, "Content-Type": "application/json"},
        )
        assert 400 <= response.status < 500, (raw, response.status)
        assert "error" in await response.json()
    for query in ("cursor=%FF%FE", "q=%00", "per_page=1e400", "page=-1&cursor=x"):
        response = await client.get(f"/api/v1/discovery/agents?{query}")
        assert 400 <= response.status < 500, (query, response.status)
        assert "error" in await response.json()
