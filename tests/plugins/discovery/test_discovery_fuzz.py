"""Property-based: arbitrary Unicode in the search text and every filter, through GET and POST,
on each records backend — always 200 or 422, never a server error."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request

from discovery_helpers import app_overrides, register_fleet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

QUERY_PARAMETERS = (
    "q",
    "capabilities",
    "capability_match",
    "agent_type",
    "status",
    "tags",
    "developer",
    "verified",
    "has_pricing",
    "currency",
    "protocol_binding",
    "streaming",
    "push_notifications",
    "input_mode",
    "output_mode",
    "security_scheme",
    "extension",
    "sort",
    "page",
    "per_page",
    "fields",
    "facets",
    "include_federated",
    "cursor",
)
FILTERS = tuple(name for name in QUERY_PARAMETERS[2:17] if name != "capability_match")
CAPABILITY_PARAMETERS = ("q", "capabilities", "capability_match", "limit", *FILTERS)
TEXT = st.text(max_size=300)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=10,
)
EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _fuzz(base_url: str) -> None:
    @EXAMPLES
    @given(st.dictionaries(st.sampled_from(QUERY_PARAMETERS), TEXT, max_size=6))
    def query_strings(parameters: dict[str, str]) -> None:
        url = f"{base_url}/api/v1/discovery/agents?{urllib.parse.urlencode(parameters)}"
        # A cursor the registry did not give out is a 400; nothing else may be.
        allowed = (200, 400, 422) if "cursor" in parameters else (200, 422)
        assert _status(urllib.request.Request(url)) in allowed, parameters

    @EXAMPLES
    @given(st.dictionaries(st.sampled_from(CAPABILITY_PARAMETERS), TEXT, max_size=6))
    def capability_counts(parameters: dict[str, str]) -> None:
        url = f"{base_url}/api/v1/discovery/capabilities?{urllib.parse.urlencode(parameters)}"
        assert _status(urllib.request.Request(url)) in (200, 422), parameters

    @EXAMPLES
    @given(
        st.fixed_dictionaries(
            {},
            optional={
                "q": TEXT | JSON_VALUES,
                "filters": st.dictionaries(
                    st.sampled_from((*FILTERS, "capabilities")), JSON_VALUES, max_size=5
                ),
                "sort": TEXT,
                "per_page": JSON_VALUES,
            },
        )
    )
    def bodies(body: dict) -> None:
        request = urllib.request.Request(
            f"{base_url}/api/v1/discovery/search",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        assert _status(request) in (200, 422), body

    query_strings()
    capability_counts()
    bodies()


async def test_arbitrary_text_never_fails_a_search(aiohttp_client, make_app, records_overrides):
    overrides = app_overrides(storage=records_overrides, plugins={"discovery": {"cache_ttl": 0}})
    client = await aiohttp_client(make_app(overrides))
    await register_fleet(client)
    await asyncio.to_thread(_fuzz, str(client.make_url("")).rstrip("/"))
