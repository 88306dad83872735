"""Serving stored A2A 1.0 cards in the v0.3 layout, for clients that predate 1.0.

Each v0.3 card must be one the official SDK's v0.3 model accepts, agree with the SDK's own
converter, and normalize back into the card it came from, less what v0.3 cannot say.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from a2a_corpus import CORPUS, EXPECTED, needs_corpus, sdk_agent_card_type
from agentvault_registry.a2a import normalize_card
from agentvault_registry.a2a.bindings import CORE_BINDINGS
from agentvault_registry.a2a.downgrade import NoV03Interface, downgrade_to_v03
from sample_cards import V03_CARD, V1_CARD

ENDPOINT = "https://agent.acme.dev/a2a"
SAMPLES = {"sample_cards.V1_CARD": V1_CARD, "sample_cards.V03_CARD": V03_CARD}
ACCEPTED = sorted(name for name, expected in EXPECTED.items() if expected["outcome"] != "refused")
CARD_NAMES = [
    *SAMPLES,
    *(pytest.param(name, marks=[pytest.mark.corpus, needs_corpus]) for name in ACCEPTED),
]
#: The interface fields a v0.3 card carries (protocolVersion once, for all of them).
V03_INTERFACE_FIELDS = ("url", "protocolBinding", "protocolVersion")


def stored_card(name: str) -> dict[str, Any]:
    document = SAMPLES[name] if name in SAMPLES else (CORPUS / name).read_bytes()
    return normalize_card(document).card


def stored(**changes: Any) -> dict[str, Any]:
    """A card as the registry stores it, with one interface that speaks v0.3."""
    card = {
        "name": "Translator",
        "description": "Translates documents between languages.",
        "supportedInterfaces": [interface()],
        "version": "2.1.0",
        "capabilities": {"streaming": True},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [
            {
                "id": "translate",
                "name": "Translate",
                "description": "Translate a text.",
                "tags": ["language", "translation"],
            }
        ],
    }
    card.update(changes)
    result = normalize_card(card)
    assert result.card == card, result.warnings
    return result.card


def interface(**changes: Any) -> dict[str, Any]:
    return {"url": ENDPOINT, "protocolBinding": "JSONRPC", "protocolVersion": "0.3", **changes}


def speaking(card: dict[str, Any], version: str) -> dict[str, Any]:
    """``card`` with every interface declaring ``version``."""
    relabeled = copy.deepcopy(card)
    for item in relabeled["supportedInterfaces"]:
        item["protocolVersion"] = version
    return relabeled


def before_1_0(item: dict[str, Any]) -> bool:
    return item["protocolVersion"].startswith("0.")


def offering_v03(card: dict[str, Any]) -> dict[str, Any]:
    """``card`` when an interface speaks a version before 1.0; otherwise as if its agent
    spoke v0.3 on all of them, so that the rest of every card gets converted as well."""
    return card if any(map(before_1_0, card["supportedInterfaces"])) else speaking(card, "0.3")


def what_v03_carries(card: dict[str, Any]) -> dict[str, Any]:
    """``card`` less what a v0.3 card cannot say, which is all a card may lose on its way
    through v0.3 and back: the interfaces that speak another version than the first one
    before 1.0 (v0.3 names one protocolVersion for all), and each interface's tenant and
    fields A2A does not define (v0.3's interface is {url, transport}).

    v0.3 cannot say either OAuth's deviceCode flow and pkceRequired, or fields beside
    ``schemes`` in a security requirement; no card here has them, and the tests of each say
    what becomes of them.
    """
    kept = copy.deepcopy(card)
    interfaces = kept["supportedInterfaces"]
    version = next(item["protocolVersion"] for item in interfaces if before_1_0(item))
    kept["supportedInterfaces"] = [
        {name: item[name] for name in V03_INTERFACE_FIELDS}
        for item in interfaces
        if item["protocolVersion"] == version
    ]
    return kept


def without_empty(value: Any) -> Any:
    """``value`` without empty lists and maps, which proto3 cannot tell from absent ones."""
    if isinstance(value, dict):
        items = {name: without_empty(item) for name, item in value.items()}
        return {name: item for name, item in items.items() if item not in ({}, [])}
    if isinstance(value, list):
        return [without_empty(item) for item in value]
    return value


def sdk_v03() -> Any:
    """The SDK's v0.3 compatibility layer (its pydantic types and converters)."""
    sdk_agent_card_type()  # skips, or fails in CI, without the SDK, as the 1.0 tests do
    from a2a.compat.v0_3 import conversions, types

    return conversions, types


def sdk_conversion(card: dict[str, Any]) -> dict[str, Any]:
    """What the SDK's own converter makes of ``card``, as JSON."""
    from google.protobuf.json_format import ParseDict

    conversions, _ = sdk_v03()
    parsed = ParseDict(card, sdk_agent_card_type()(), ignore_unknown_fields=True)
    return as_json(conversions.to_compat_agent_card(parsed))


def as_json(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


@pytest.fixture
def v03_card_model():
    """The SDK's pydantic v0.3 AgentCard."""
    _, types = sdk_v03()
    return types.AgentCard


@pytest.fixture
def downgrade(v03_card_model):
    """downgrade_to_v03, checking that the SDK's v0.3 model accepts every card it makes."""

    def checked(card: dict[str, Any]) -> dict[str, Any]:
        v03 = downgrade_to_v03(card)
        v03_card_model.model_validate(v03)
        return v03

    return checked


# --- every corpus and sample card ------------------------------------------------------------


@pytest.mark.parametrize("name", CARD_NAMES)
def test_a_card_comes_back_from_v03_as_it_was_less_what_v03_cannot_say(name, downgrade):
    card = offering_v03(stored_card(name))
    assert normalize_card(downgrade(card)).card == what_v03_carries(card)


@pytest.mark.parametrize("name", CARD_NAMES)
def test_a_card_converts_as_the_sdks_own_converter_converts_it(name, v03_card_model):
    card = speaking(stored_card(name), "0.3")
    ours = as_json(v03_card_model.model_validate(downgrade_to_v03(card)))
    theirs = sdk_conversion(card)
    # v0.3 names the patch version too, as in its schema's default "0.3.0"; the SDK copies
    # the interface's "0.3", which its v0.3 model accepts as well.
    assert (ours.pop("protocolVersion"), theirs.pop("protocolVersion")) == ("0.3.0", "0.3")
    # v0.3 recommends that additionalInterfaces repeat the main interface; the SDK lists
    # only the others.
    assert ours.pop("additionalInterfaces")[1:] == theirs.pop("additionalInterfaces", [])
    # The SDK converts through protobuf, which leaves out empty lists and maps.
    assert without_empty(ours) == without_empty(theirs)


@pytest.mark.parametrize("name", CARD_NAMES)
def test_a_card_that_speaks_only_1_0_has_no_v03_form_here_as_in_the_sdk(name):
    card = speaking(stored_card(name), "1.0")
    with pytest.raises(NoV03Interface):
        downgrade_to_v03(card)
    sdk_v03()  # or a skip, before importing from the SDK
    from a2a.types import VersionNotSupportedError

    with pytest.raises(VersionNotSupportedError):
        sdk_conversion(card)


# --- interfaces ------------------------------------------------------------------------------


def test_the_first_interface_is_the_url_and_additional_interfaces_list_them_all(downgrade):
    interfaces = [
        interface(url="https://agent.acme.dev/grpc", protocolBinding="GRPC"),
        interface(),
        interface(url="https://agent.acme.dev/rest", protocolBinding="HTTP+JSON"),
    ]
    v03 = downgrade(stored(supportedInterfaces=interfaces))
    assert v03["protocolVersion"] == "0.3.0"
    assert (v03["url"], v03["preferredTransport"]) == ("https://agent.acme.dev/grpc", "GRPC")
    assert v03["additionalInterfaces"] == [
        {"url": "https://agent.acme.dev/grpc", "transport": "GRPC"},
        {"url": ENDPOINT, "transport": "JSONRPC"},
        {"url": "https://agent.acme.dev/rest", "transport": "HTTP+JSON"},
    ]
    assert "supportedInterfaces" not in v03


def test_the_core_bindings_are_spelled_as_v03_transports():
    _, types = sdk_v03()
    assert {transport.value for transport in types.TransportProtocol} == set(CORE_BINDINGS)


def test_a_custom_binding_is_kept_as_the_transport(downgrade):
    binding = "https://acme.dev/bindings/direct-v1"
    v03 = downgrade(stored(supportedInterfaces=[interface(protocolBinding=binding)]))
    assert v03["preferredTransport"] == binding


def test_interfaces_that_speak_1_0_are_left_out_as_the_sdk_leaves_them_out(downgrade):
    interfaces = [
        interface(protocolVersion="1.0"),
        interface(url="https://agent.acme.dev/v03"),
        interface(url="https://agent.acme.dev/rest", protocolVersion="1.0"),
    ]
    card = stored(supportedInterfaces=interfaces)
    v03 = downgrade(card)
    assert v03["url"] == sdk_conversion(card)["url"] == "https://agent.acme.dev/v03"
    assert v03["additionalInterfaces"] == [
        {"url": "https://agent.acme.dev/v03", "transport": "JSONRPC"}
    ]


def test_a_card_whose_interfaces_all_speak_1_0_is_a_404_naming_their_versions():
    card = stored(supportedInterfaces=[interface(protocolVersion="1.0")])
    with pytest.raises(NoV03Interface) as refused:
        downgrade_to_v03(card)
    assert (refused.value.status, refused.value.code) == (404, "no_v03_interface")
    assert refused.value.details == {"protocolVersions": ["1.0"]}


def test_a_v02_interface_is_served_with_its_own_version(downgrade):
    # The SDK's converter refuses a 0.2 interface (it wants 0.3 to 1.0), but v0.2 and v0.3
    # share one card layout, and v0.3 clients have always read v0.2 cards.
    v03 = downgrade(stored(supportedInterfaces=[interface(protocolVersion="0.2")]))
    assert v03["protocolVersion"] == "0.2.0"


def test_only_the_interfaces_of_the_first_version_before_1_0_are_listed(downgrade):
    interfaces = [interface(protocolVersion="0.2"), interface(url="https://agent.acme.dev/v03")]
    v03 = downgrade(stored(supportedInterfaces=interfaces))
    assert v03["protocolVersion"] == "0.2.0"
    assert v03["additionalInterfaces"] == [{"url": ENDPOINT, "transport": "JSONRPC"}]


def test_an_interfaces_tenant_is_dropped(downgrade):
    v03 = downgrade(stored(supportedInterfaces=[interface(tenant="acme")]))
    assert v03["additionalInterfaces"] == [{"url": ENDPOINT, "transport": "JSONRPC"}]


# --- security --------------------------------------------------------------------------------

AUTHORIZATION_CODE = {
    "authorizationUrl": "https://id.acme.dev/authorize",
    "tokenUrl": "https://id.acme.dev/token",
    "scopes": {"read": "Read documents."},
}
CLIENT_CREDENTIALS = {"tokenUrl": "https://id.acme.dev/token", "scopes": {}}


@pytest.mark.parametrize(
    ("v1", "v03"),
    [
        (
            {"apiKeySecurityScheme": {"location": "header", "name": "X-Key", "description": "d"}},
            {"type": "apiKey", "in": "header", "name": "X-Key", "description": "d"},
        ),
        (
            {"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"}},
            {"type": "http", "scheme": "Bearer", "bearerFormat": "JWT"},
        ),
        (
            {
                "oauth2SecurityScheme": {
                    "flows": {"authorizationCode": AUTHORIZATION_CODE},
                    "oauth2MetadataUrl": "https://id.acme.dev/.well-known/oauth-authorization",
                }
            },
            {
                "type": "oauth2",
                "flows": {"authorizationCode": AUTHORIZATION_CODE},
                "oauth2MetadataUrl": "https://id.acme.dev/.well-known/oauth-authorization",
            },
        ),
        (
            {"oauth2SecurityScheme": {"flows": {"clientCredentials": CLIENT_CREDENTIALS}}},
            {"type": "oauth2", "flows": {"clientCredentials": CLIENT_CREDENTIALS}},
        ),
        (
            {"openIdConnectSecurityScheme": {"openIdConnectUrl": "https://id.acme.dev/oidc"}},
            {"type": "openIdConnect", "openIdConnectUrl": "https://id.acme.dev/oidc"},
        ),
        ({"mtlsSecurityScheme": {"description": "d"}}, {"type": "mutualTLS", "description": "d"}),
    ],
)
def test_each_security_scheme_takes_v03s_type_discriminated_shape(v1, v03, downgrade):
    card = stored(securitySchemes={"auth": v1})
    downgraded = downgrade(card)
    assert downgraded["securitySchemes"] == {"auth": v03}
    assert normalize_card(downgraded).card == card


def test_security_requirements_become_v03s_security_lists_card_wide_and_per_skill(downgrade):
    schemes = {
        "bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}},
        "key": {"apiKeySecurityScheme": {"location": "header", "name": "X-Key"}},
    }
    requirements = [{"schemes": {"bearer": {"list": ["read"]}, "key": {"list": []}}}]
    skill = {**stored()["skills"][0], "securityRequirements": [{"schemes": {"key": {"list": []}}}]}
    card = stored(securitySchemes=schemes, securityRequirements=requirements, skills=[skill])
    v03 = downgrade(card)
    assert v03["security"] == [{"bearer": ["read"], "key": []}]
    assert v03["skills"][0]["security"] == [{"key": []}]
    assert "securityRequirements" not in v03 and "securityRequirements" not in v03["skills"][0]
    assert normalize_card(v03).card == card


def test_a_scope_list_proto3_json_left_out_is_an_empty_one(downgrade):
    schemes = {"bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}}}
    card = stored(securitySchemes=schemes, securityRequirements=[{"schemes": {"bearer": {}}}])
    assert downgrade(card)["security"] == [{"bearer": []}]


def test_a_card_without_security_gets_no_security_fields(downgrade):
    v03 = downgrade(stored())
    assert not {"security", "securitySchemes"} & v03.keys()


def test_the_device_code_flow_and_pkce_are_dropped_since_v03_knows_neither(downgrade):
    device = {"deviceAuthorizationUrl": "https://d", "tokenUrl": "https://t", "scopes": {}}
    schemes = {
        "device": {"oauth2SecurityScheme": {"flows": {"deviceCode": device}}},
        "code": {
            "oauth2SecurityScheme": {
                "flows": {"authorizationCode": {**AUTHORIZATION_CODE, "pkceRequired": True}}
            }
        },
    }
    requirements = [{"schemes": {"device": {"list": []}}}]
    v03 = downgrade(stored(securitySchemes=schemes, securityRequirements=requirements))
    # Still declared, so the requirement naming it still says that OAuth is needed.
    assert v03["securitySchemes"]["device"] == {"type": "oauth2", "flows": {}}
    assert v03["securitySchemes"]["code"]["flows"] == {"authorizationCode": AUTHORIZATION_CODE}
    assert v03["security"] == [{"device": []}]


def test_a_flow_without_scopes_gets_the_empty_map_v03_requires(downgrade):
    implicit = {"authorizationUrl": "https://id.acme.dev/authorize"}
    schemes = {"old": {"oauth2SecurityScheme": {"flows": {"implicit": implicit}}}}
    v03 = downgrade(stored(securitySchemes=schemes))
    assert v03["securitySchemes"]["old"]["flows"] == {"implicit": {**implicit, "scopes": {}}}


# --- the rest of the card --------------------------------------------------------------------


def test_signatures_are_carried_unchanged(downgrade):
    signatures = [{"protected": "eyJhbGciOiJFUzI1NiJ9", "signature": "c2ln", "header": {"k": 1}}]
    card = stored(signatures=signatures)
    v03 = downgrade(card)
    assert v03["signatures"] == signatures
    assert normalize_card(v03).card == card


@pytest.mark.parametrize("flag", [True, False])
def test_the_extended_card_capability_becomes_supports_authenticated_extended_card(flag, downgrade):
    card = stored(capabilities={"streaming": True, "extendedAgentCard": flag})
    v03 = downgrade(card)
    assert v03["supportsAuthenticatedExtendedCard"] is flag
    assert v03["capabilities"] == {"streaming": True}
    assert normalize_card(v03).card == card


def test_the_fields_both_versions_share_are_copied(downgrade):
    extension = {"uri": "urn:acme:ext", "required": True, "params": {"level": 2}}
    skill = {**stored()["skills"][0], "examples": ["Say hello in Irish."], "inputModes": ["a/b"]}
    shared = {
        "provider": {"organization": "Acme", "url": "https://acme.dev"},
        "documentationUrl": "https://acme.dev/docs",
        "iconUrl": "https://acme.dev/icon.png",
        "capabilities": {"streaming": True, "pushNotifications": False, "extensions": [extension]},
        "skills": [skill],
    }
    v03 = downgrade(stored(**shared))
    assert {name: v03[name] for name in shared} == shared
    assert v03["defaultInputModes"] == v03["defaultOutputModes"] == ["text/plain"]


def test_fields_a2a_does_not_define_travel_along(downgrade):
    skill = {**stored()["skills"][0], "x-cost": 3}
    card = stored(skills=[skill], **{"x-vendor": {"tier": "gold"}})
    v03 = downgrade(card)
    assert (v03["x-vendor"], v03["skills"][0]["x-cost"]) == ({"tier": "gold"}, 3)
    assert normalize_card(v03).card == card


def test_the_stored_card_is_left_as_it_was(downgrade):
    schemes = {"key": {"apiKeySecurityScheme": {"location": "header", "name": "X-Key"}}}
    card = stored(securitySchemes=schemes, capabilities={"extendedAgentCard": True})
    before = copy.deepcopy(card)
    downgrade(card)
    assert card == before
