"""Normalizing A2A Agent Cards: each upgrade rule, each refusal, the limits, derived cards."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest

from agentvault_registry.a2a import (
    MAX_CARD_BYTES,
    MAX_NESTING_DEPTH,
    AgentCardSchema,
    CardRefused,
    derive_card,
    extract_search_fields,
    normalize_card,
)
from agentvault_registry.core.errors import ValidationFailed

ENDPOINT = "https://agent.acme.dev/a2a"


def v1_card(**changes: Any) -> dict[str, Any]:
    card = {
        "name": "Translator",
        "description": "Translates documents between languages.",
        "supportedInterfaces": [
            {"url": ENDPOINT, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
        ],
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
    return card


def v03_card(**changes: Any) -> dict[str, Any]:
    card = v1_card(url=ENDPOINT, protocolVersion="0.3.0", preferredTransport="JSONRPC")
    del card["supportedInterfaces"]
    card.update(changes)
    return card


def interface(**changes: Any) -> dict[str, Any]:
    return {"url": ENDPOINT, "protocolBinding": "JSONRPC", "protocolVersion": "1.0", **changes}


def refusal(document: Any) -> dict[str, list[str]]:
    with pytest.raises(CardRefused) as refused:
        normalize_card(document)
    return refused.value.details


def assert_refused(document: Any, field: str, reason: str) -> None:
    details = refusal(document)
    assert field in details, details
    assert any(reason in text for text in details[field]), details


def warned(result: Any, text: str) -> bool:
    return any(text in warning for warning in result.warnings)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture
def sdk_agent_card():
    try:
        from a2a.types import AgentCard
    except ImportError:
        if in_ci():
            raise
        pytest.skip("a2a-sdk is not installed: pip install -e '.[test]'")
    return AgentCard


# --- accepted as published -------------------------------------------------------------------


def test_a_valid_v1_card_is_accepted_unchanged_without_warnings():
    result = normalize_card(v1_card())
    assert result.card == v1_card()
    assert result.warnings == []
    assert result.source_version == "1.0"


def test_json_text_and_bytes_are_read_like_parsed_json():
    assert normalize_card(json.dumps(v1_card())).card == v1_card()
    assert normalize_card(json.dumps(v1_card()).encode()).card == v1_card()


def test_the_original_document_is_kept_as_given():
    document = v03_card()
    result = normalize_card(document)
    assert result.original == v03_card()
    assert "url" in result.original and "url" not in result.card


def test_fields_a2a_does_not_define_are_kept_and_named_in_a_warning():
    skill = {**v1_card()["skills"][0], "x-cost": 3}
    extension = {"uri": "urn:acme:ext", "params": {"anything": {"goes": True}}}
    card = v1_card(skills=[skill], capabilities={"extensions": [extension]}, **{"x-vendor": 1})
    result = normalize_card(card)
    assert result.card["x-vendor"] == 1
    assert result.card["skills"][0]["x-cost"] == 3
    assert result.card["capabilities"]["extensions"][0]["params"] == extension["params"]
    assert warned(result, "Kept fields that A2A 1.0 does not define: x-vendor, skills.*.x-cost.")
    assert not warned(result, "params")


def test_a_custom_protocol_binding_is_kept_with_a_warning():
    binding = "https://acme.dev/bindings/direct-v1"
    result = normalize_card(v1_card(supportedInterfaces=[interface(protocolBinding=binding)]))
    assert result.card["supportedInterfaces"][0]["protocolBinding"] == binding
    assert warned(result, "kept as a custom one")


@pytest.mark.parametrize(
    ("url", "warning"),
    [
        ("http://localhost:8080/a2a", "localhost is reachable only"),
        ("http://10.0.0.5/a2a", "10.0.0.5 is reachable only"),
        ("http://agents.internal/a2a", "agents.internal is reachable only"),
        ("https://agent.example.com/a2a", "agent.example.com is reserved for documentation"),
    ],
)
def test_local_and_documentation_hosts_are_accepted_with_a_warning(url, warning):
    result = normalize_card(v1_card(supportedInterfaces=[interface(url=url)]))
    assert warned(result, f"supportedInterfaces.0.url: {warning}")


def test_normalizing_a_normalized_card_changes_nothing():
    first = normalize_card(v03_card(security=[{"bearer": []}], securitySchemes=BEARER_OPENAPI))
    again = normalize_card(first.card)
    assert again.card == first.card
    assert again.warnings == []


# --- v0.2 / v0.3 upgrades --------------------------------------------------------------------


def test_a_v03_card_gets_supported_interfaces_from_url_transport_and_version():
    result = normalize_card(v03_card(preferredTransport="HTTP+JSON"))
    assert result.card["supportedInterfaces"] == [
        {"url": ENDPOINT, "protocolBinding": "HTTP+JSON", "protocolVersion": "0.3"}
    ]
    assert result.source_version == "0.3"
    assert warned(result, "supportedInterfaces: built from the v0.3 fields url")


def test_additional_interfaces_follow_with_their_transport_and_repeats_are_dropped():
    additional = [
        {"url": ENDPOINT, "transport": "JSONRPC"},
        {"url": "https://grpc.acme.dev", "transport": "GRPC"},
    ]
    result = normalize_card(v03_card(additionalInterfaces=additional))
    assert result.card["supportedInterfaces"][1:] == [
        {"url": "https://grpc.acme.dev", "protocolBinding": "GRPC", "protocolVersion": "0.3"}
    ]
    assert warned(result, "additionalInterfaces.0: dropped; it repeats an interface")


def test_a_v02_card_without_transport_or_version_takes_the_v03_defaults():
    card = v03_card()
    del card["protocolVersion"], card["preferredTransport"]
    result = normalize_card(card)
    assert result.card["supportedInterfaces"] == [
        {"url": ENDPOINT, "protocolBinding": "JSONRPC", "protocolVersion": "0.3"}
    ]
    assert warned(result, "v0.3's defaults apply: preferredTransport 'JSONRPC', protocolVersion")


def test_a_card_declaring_v02_reports_that_source_version():
    assert normalize_card(v03_card(protocolVersion="0.2.5")).source_version == "0.2"


def test_v03_leftovers_beside_supported_interfaces_are_dropped_with_a_warning():
    card = v1_card(url=ENDPOINT, preferredTransport="JSONRPC", additionalInterfaces=[])
    result = normalize_card(card)
    assert result.card == v1_card()
    assert warned(
        result, "Dropped v0.3 fields supportedInterfaces replaces: url, preferredTransport"
    )


def test_an_interface_without_protocol_version_takes_the_top_level_one():
    card = v1_card(protocolVersion="1.0", supportedInterfaces=[{"url": ENDPOINT, "transport": "x"}])
    result = normalize_card(card)
    assert result.card["supportedInterfaces"][0]["protocolVersion"] == "1.0"


def test_security_becomes_security_requirements_in_the_v1_shape():
    result = normalize_card(v03_card(security=[{"bearer": ["read"]}], securitySchemes=BEARER_V1))
    assert result.card["securityRequirements"] == [{"schemes": {"bearer": {"list": ["read"]}}}]
    assert "security" not in result.card
    assert warned(result, "security: renamed securityRequirements")


def test_a_skill_security_list_is_upgraded_too():
    skill = {**v1_card()["skills"][0], "security": [{"bearer": []}]}
    result = normalize_card(v1_card(skills=[skill], securitySchemes=BEARER_V1))
    assert result.card["skills"][0]["securityRequirements"] == [
        {"schemes": {"bearer": {"list": []}}}
    ]


def test_draft_requirements_with_bare_scope_lists_get_the_list_wrapper():
    requirements = [{"schemes": {"bearer": ["read"]}}]
    result = normalize_card(v1_card(securityRequirements=requirements, securitySchemes=BEARER_V1))
    assert result.card["securityRequirements"] == [{"schemes": {"bearer": {"list": ["read"]}}}]


BEARER_V1 = {"bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}}}
BEARER_OPENAPI = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


@pytest.mark.parametrize(
    ("openapi", "v1"),
    [
        (
            {"type": "apiKey", "in": "header", "name": "X-Key"},
            {"apiKeySecurityScheme": {"location": "header", "name": "X-Key"}},
        ),
        (
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"httpAuthSecurityScheme": {"scheme": "bearer", "bearerFormat": "JWT"}},
        ),
        (
            {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "t", "scopes": {}}}},
            {
                "oauth2SecurityScheme": {
                    "flows": {"clientCredentials": {"tokenUrl": "t", "scopes": {}}}
                }
            },
        ),
        (
            {"type": "openIdConnect", "openIdConnectUrl": "https://id.acme.dev"},
            {"openIdConnectSecurityScheme": {"openIdConnectUrl": "https://id.acme.dev"}},
        ),
        ({"type": "mutualTLS", "description": "d"}, {"mtlsSecurityScheme": {"description": "d"}}),
    ],
)
def test_openapi_security_schemes_become_the_v1_oneof(openapi, v1):
    result = normalize_card(v1_card(securitySchemes={"auth": openapi}))
    assert result.card["securitySchemes"] == {"auth": v1}
    assert warned(
        result,
        f"converted from OpenAPI's {{type: ...}} shape to A2A 1.0's: auth ({openapi['type']})",
    )


@pytest.mark.parametrize("flag", ["supportsAuthenticatedExtendedCard", "supportsExtendedAgentCard"])
def test_the_extended_card_flag_moves_into_capabilities(flag):
    result = normalize_card(v1_card(**{flag: True}))
    assert result.card["capabilities"]["extendedAgentCard"] is True
    assert flag not in result.card
    assert warned(result, f"{flag}: moved to capabilities.extendedAgentCard")


def test_state_transition_history_is_dropped():
    result = normalize_card(v1_card(capabilities={"stateTransitionHistory": True}))
    assert result.card["capabilities"] == {}
    assert warned(result, "capabilities.stateTransitionHistory: dropped")


# --- other spellings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "binding"),
    [
        ("jsonrpc", "JSONRPC"),
        ("json-rpc", "JSONRPC"),
        ("JSON-RPC", "JSONRPC"),
        ("grpc", "GRPC"),
        ("gRPC", "GRPC"),
        ("http+json", "HTTP+JSON"),
        ("HTTP/JSON", "HTTP+JSON"),
        ("rest", "HTTP+JSON"),
    ],
)
def test_core_bindings_in_another_spelling_are_respelled(spelling, binding):
    result = normalize_card(v1_card(supportedInterfaces=[interface(protocolBinding=spelling)]))
    assert result.card["supportedInterfaces"][0]["protocolBinding"] == binding
    assert warned(result, f"{spelling!r} is spelled {binding!r}")


def test_transport_is_read_as_protocol_binding():
    item = {"url": ENDPOINT, "transport": "jsonrpc", "protocolVersion": "1.0"}
    result = normalize_card(v1_card(supportedInterfaces=[item]))
    assert result.card["supportedInterfaces"] == [interface()]
    assert warned(result, "supportedInterfaces.0.transport: renamed protocolBinding")


def test_patch_versions_are_named_by_major_and_minor():
    result = normalize_card(v1_card(supportedInterfaces=[interface(protocolVersion="1.0.2")]))
    assert result.card["supportedInterfaces"][0]["protocolVersion"] == "1.0"


def test_snake_case_names_a2a_defines_become_camel_case_at_every_level():
    card = v1_card()
    card["default_input_modes"] = card.pop("defaultInputModes")
    card["capabilities"] = {"push_notifications": True}
    card["supported_interfaces"] = [
        {"url": ENDPOINT, "protocol_binding": "JSONRPC", "protocol_version": "1.0"}
    ]
    del card["supportedInterfaces"]
    card["skills"][0]["input_modes"] = ["text/plain"]
    card["x_vendor_field"] = 1
    result = normalize_card(card)
    assert result.card["defaultInputModes"] == ["text/plain"]
    assert result.card["capabilities"] == {"pushNotifications": True}
    assert result.card["supportedInterfaces"] == [interface()]
    assert result.card["skills"][0]["inputModes"] == ["text/plain"]
    assert result.card["x_vendor_field"] == 1
    assert warned(result, "supported_interfaces.*.protocol_binding")


def test_capabilities_listed_by_name_become_flags():
    result = normalize_card(v1_card(capabilities=["streaming", "push_notifications"]))
    assert result.card["capabilities"] == {"streaming": True, "pushNotifications": True}
    assert warned(result, "capabilities: the array of capability names became an object")


def test_null_fields_are_read_as_absent():
    result = normalize_card(v1_card(provider=None, capabilities={"extensions": None}))
    assert "provider" not in result.card and result.card["capabilities"] == {}
    assert warned(result, "Dropped null fields (proto3 JSON reads null as absent): provider, capab")


# --- refusals --------------------------------------------------------------------------------


def test_a_refusal_is_a_422_validation_error_with_field_paths():
    with pytest.raises(ValidationFailed) as refused:
        normalize_card(v1_card(name=""))
    assert refused.value.status == 422
    assert refused.value.code == "invalid_agent_card"
    assert refused.value.details == {"name": ["Must not be empty."]}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/api/a2a", "relative"),
        ("agent.acme.dev/a2a", "relative"),
        ("{BASE_URL}/a2a", "template"),
        ("https://{host}/a2a", "template"),
        ("${PUBLIC_URL}/a2a", "template"),
        ("https://<your-host>/a2a", "template"),
        ("https://your-domain.com/a2a", "placeholder"),
        ("REPLACE_WITH_ENDPOINT", "relative or not a URL"),
        ("ftp://agent.acme.dev/a2a", "not ftp:"),
        ("local://agent", "not local:"),
        ("https:///a2a", "Must name a host"),
        ("http://agent.acme.dev:0/a2a", "port 0"),
        ("https://agent.acme.dev/a 2a", "whitespace"),
    ],
)
def test_an_interface_url_clients_cannot_call_is_refused(url, reason):
    assert_refused(
        v1_card(supportedInterfaces=[interface(url=url)]), "supportedInterfaces.0.url", reason
    )


def test_an_unusable_v03_url_is_refused_under_its_own_name():
    assert_refused(v03_card(url="{BASE_URL}/a2a"), "url", "template")
    extra = [{"url": "https://{host}/mcp", "transport": "JSONRPC"}]
    assert_refused(v03_card(additionalInterfaces=extra), "additionalInterfaces.0.url", "template")


def test_a_card_without_interfaces_is_refused():
    card = v1_card()
    del card["supportedInterfaces"]
    assert_refused(card, "supportedInterfaces", "a card needs supportedInterfaces (or url)")
    assert_refused(v1_card(supportedInterfaces=[]), "supportedInterfaces", "at least one")


def test_a_card_without_skills_is_refused():
    assert_refused(v1_card(skills=[]), "skills", "A card needs at least one skill.")
    card = v1_card()
    del card["skills"]
    assert_refused(card, "skills", "Missing data for required field.")


@pytest.mark.parametrize("field", ["id", "name", "description", "tags"])
def test_a_skill_missing_a_required_field_is_refused(field):
    skill = dict(v1_card()["skills"][0])
    del skill[field]
    assert_refused(v1_card(skills=[skill]), f"skills.0.{field}", "Missing data for required field.")


def test_a_skill_with_no_tags_is_refused():
    skill = {**v1_card()["skills"][0], "tags": []}
    assert_refused(v1_card(skills=[skill]), "skills.0.tags", "at least one")


def test_skill_ids_must_be_unique():
    skill = v1_card()["skills"][0]
    assert_refused(v1_card(skills=[skill, skill]), "skills.1.id", "Repeats the id of skills.0")


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"name": 12345}, "name", "Not a valid string."),
        ({"version": 1}, "version", "Not a valid string."),
        ({"capabilities": "streaming"}, "capabilities", "Must be a JSON object."),
        ({"capabilities": {"streaming": "yes"}}, "capabilities.streaming", "Not a valid boolean."),
        ({"capabilities": {"streaming": 1}}, "capabilities.streaming", "Not a valid boolean."),
        ({"defaultInputModes": "text/plain"}, "defaultInputModes", "Not a valid list."),
        ({"skills": ["translate"]}, "skills.0", "Must be a JSON object."),
        ({"provider": {"organization": "Acme"}}, "provider.url", "Missing data"),
        ({"documentationUrl": "javascript:alert(1)"}, "documentationUrl", "not javascript:"),
        ({"iconUrl": "/icon.png"}, "iconUrl", "relative"),
        ({"signatures": [{"jws": "x"}]}, "signatures.0.protected", "Missing data"),
    ],
)
def test_wrong_types_are_refused_with_their_path(changes, field, reason):
    assert_refused(v1_card(**changes), field, reason)


def test_capabilities_listing_other_names_are_refused():
    assert_refused(v1_card(capabilities=["streaming", "vision"]), "capabilities", "vision")


def test_a_transport_contradicting_the_protocol_binding_is_refused():
    card = v1_card(supportedInterfaces=[interface(transport="GRPC")])
    assert_refused(card, "supportedInterfaces.0.transport", "another binding")


def test_snake_and_camel_spellings_that_disagree_are_refused():
    assert_refused(v1_card(default_input_modes=["image/png"]), "default_input_modes", "Contradicts")


def test_an_extended_card_flag_contradicting_capabilities_is_refused():
    card = v1_card(
        capabilities={"extendedAgentCard": False}, supportsAuthenticatedExtendedCard=True
    )
    assert_refused(card, "supportsAuthenticatedExtendedCard", "Contradicts")


@pytest.mark.parametrize(
    ("scheme", "field", "reason"),
    [
        ({"type": "none"}, "securitySchemes.auth.type", "Unknown security scheme type 'none'"),
        (
            {"type": "oauth2", "flows": {"implicit": {}, "password": {}}},
            "securitySchemes.auth.flows",
            "one OAuth flow per scheme",
        ),
        (
            {"type": "apiKey", "in": "body", "name": "k"},
            "securitySchemes.auth.in",
            "Must be one of",
        ),
        ({}, "securitySchemes.auth", "Must hold exactly one security scheme"),
        (
            {"mtlsSecurityScheme": {}, "httpAuthSecurityScheme": {"scheme": "Bearer"}},
            "securitySchemes.auth",
            "found httpAuthSecurityScheme, mtlsSecurityScheme",
        ),
    ],
)
def test_security_schemes_without_one_clear_meaning_are_refused(scheme, field, reason):
    assert_refused(v1_card(securitySchemes={"auth": scheme}), field, reason)


def test_a_requirement_naming_an_undeclared_scheme_is_refused():
    card = v1_card(securityRequirements=[{"schemes": {"oauth": {"list": []}}}])
    assert_refused(card, "securityRequirements.0.schemes.oauth", "does not declare")


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"", "The document is empty."),
        ("   \n", "The document is empty."),
        ({}, "The document is an empty object."),
        (b"{not json", "Not JSON: Expecting property name"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b"\xff\xfe", "not UTF-8"),
        ("[]", "not an array"),
        ('"card"', "not a string"),
        ([v1_card()], "not an array"),
        ({"name": "x", "description": "y", "version": "1"}, "Not an A2A Agent Card"),
        ({"agent": v1_card()}, "Not an A2A Agent Card"),
    ],
)
def test_documents_that_are_no_card_object_are_refused(document, reason):
    assert_refused(document, "_document", reason)


# --- limits ----------------------------------------------------------------------------------


def padded_card(size: int) -> dict[str, Any]:
    """A valid card whose compact JSON is exactly ``size`` bytes."""
    card = v1_card(padding="")
    base = len(json.dumps(card, separators=(",", ":")).encode())
    card["padding"] = "a" * (size - base)
    return card


def test_a_card_of_256_kib_is_accepted_and_one_byte_more_is_refused():
    assert normalize_card(padded_card(MAX_CARD_BYTES)).card["name"] == "Translator"
    text = json.dumps(padded_card(MAX_CARD_BYTES), separators=(",", ":"))
    assert normalize_card(text).card["name"] == "Translator"
    assert_refused(padded_card(MAX_CARD_BYTES + 1), "_document", "larger than 256 KiB")
    assert_refused(text + " ", "_document", "larger than 256 KiB")


def nested(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth - 1):
        value = {"level": value}
    return value


def test_nesting_of_32_levels_is_accepted_and_33_is_refused():
    deepest_allowed = v1_card(deep=nested(MAX_NESTING_DEPTH - 1))
    assert normalize_card(deepest_allowed).card["deep"] == nested(MAX_NESTING_DEPTH - 1)
    assert normalize_card(json.dumps(deepest_allowed)).card["name"] == "Translator"
    too_deep = v1_card(deep=nested(MAX_NESTING_DEPTH))
    assert_refused(too_deep, "_document", "deeper than 32 levels")
    assert_refused(json.dumps(too_deep), "_document", "deeper than 32 levels")


def test_text_nested_beyond_the_parsers_recursion_limit_is_refused_not_crashed():
    assert_refused("[" * 100_000 + "]" * 100_000, "_document", "deeper than 32 levels")


# --- derived cards and search fields ---------------------------------------------------------


def derived(**changes: Any) -> dict[str, Any]:
    record = {
        "name": "Echo",
        "description": "Echoes what it is sent.",
        "endpoints": ["https://echo.acme.dev/a2a", "https://echo.acme.dev/rest"],
        "capabilities": ["echo", "repeat", "echo"],
        "version": "3",
    }
    return derive_card(**{**record, **changes})


def test_a_derived_card_is_a_valid_v1_card_the_sdk_parses(sdk_agent_card):
    from google.protobuf.json_format import ParseDict

    card = derived(provider_organization="Acme")
    assert AgentCardSchema().validate(card) == {}
    assert normalize_card(card).warnings == []
    parsed = ParseDict(card, sdk_agent_card())
    assert parsed.supported_interfaces[0].protocol_binding == "JSONRPC"


def test_a_derived_card_serves_the_first_endpoint_over_jsonrpc_and_skills_from_capabilities():
    card = derived(provider_organization="Acme")
    assert card["supportedInterfaces"] == [
        {"url": "https://echo.acme.dev/a2a", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
    ]
    assert [(skill["id"], skill["tags"]) for skill in card["skills"]] == [
        ("echo", ["echo"]),
        ("repeat", ["repeat"]),
    ]
    assert card["provider"] == {"organization": "Acme", "url": "https://echo.acme.dev"}


def test_a_record_without_capabilities_derives_one_general_skill():
    card = derived(capabilities=[])
    assert card["skills"] == [
        {
            "id": "general",
            "name": "Echo",
            "description": "Echoes what it is sent.",
            "tags": ["general"],
        }
    ]


def test_a_record_without_endpoints_cannot_derive_a_card():
    with pytest.raises(ValueError, match="no endpoint"):
        derived(endpoints=[])


def test_search_fields_come_from_the_normalized_card():
    skill = {**v1_card()["skills"][0], "inputModes": ["application/pdf"]}
    card = v1_card(
        skills=[skill, {**skill, "id": "detect", "tags": ["language", "detection"]}],
        provider={"organization": "Acme", "url": "https://acme.dev"},
        supportedInterfaces=[interface(), interface(protocolBinding="GRPC")],
        securitySchemes={
            "key": {"apiKeySecurityScheme": {"location": "header", "name": "X-Key"}},
            "sso": {"openIdConnectSecurityScheme": {"openIdConnectUrl": "https://acme.dev/oidc"}},
        },
        capabilities={"streaming": True, "extensions": [{"uri": "https://acme.dev/ext/audit"}]},
    )
    assert extract_search_fields(normalize_card(card).card) == {
        "name": "Translator",
        "description": "Translates documents between languages.",
        "skill_ids": ["translate", "detect"],
        "skill_names": [skill["name"]],
        "skill_tags": ["language", "translation", "detection"],
        "input_modes": ["text/plain", "application/pdf"],
        "output_modes": ["text/plain"],
        "bindings": ["JSONRPC", "GRPC"],
        "streaming": True,
        "push_notifications": False,
        "provider_organization": "Acme",
        "security_schemes": ["apiKey", "openIdConnect"],
        "extensions": ["https://acme.dev/ext/audit"],
    }


def test_search_fields_of_a_derived_card():
    fields = extract_search_fields(derived())
    assert fields["skill_ids"] == ["echo", "repeat"]
    assert fields["bindings"] == ["JSONRPC"]
    assert fields["streaming"] is False and fields["provider_organization"] is None
    assert fields["security_schemes"] == [] and fields["extensions"] == []


def test_the_normalized_card_is_independent_of_the_document():
    document = v1_card()
    result = normalize_card(document)
    result.card["skills"].append(copy.deepcopy(result.card["skills"][0]))
    assert len(document["skills"]) == 1
