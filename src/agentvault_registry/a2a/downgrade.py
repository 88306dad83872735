"""Turning a stored A2A 1.0 card back into the v0.3 layout, for clients that predate 1.0.

The inverse of ``upgrades`` and ``security_upgrades``: normalizing the result gives back the
card, except for what v0.3 cannot say, which is dropped (each step says what and why).
Fields A2A does not define travel along, as in the registry's 1.0 cards, and so do the
signatures, unchanged: they sign the document the agent published (a client verifies them
against that), not this rendering of it.

A v0.3 card names one ``protocolVersion`` for all its interfaces, and a v0.3 client speaks
that version to each of them. 1.0 renamed the JSON-RPC methods, REST paths and gRPC service,
so a 1.0-only endpoint would fail such a client: a v0.3 card lists only the interfaces of the
first pre-1.0 version the card offers, and a card that offers none has no v0.3 form.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from agentvault_registry.a2a.bindings import major_minor
from agentvault_registry.a2a.security_upgrades import OPENAPI_TYPES
from agentvault_registry.a2a.upgrades import EXTENDED_CARD_FLAGS
from agentvault_registry.core.errors import NotFound

V03_SCHEME_TYPES = {variant: kind for kind, variant in OPENAPI_TYPES.items()}
#: v0.3's name for capabilities.extendedAgentCard (the upgrade also reads a 1.0 draft's).
V03_EXTENDED_CARD_FLAG = EXTENDED_CARD_FLAGS[0]
#: What 1.0 added to OAuth: the device authorization grant (RFC 8628) and a PKCE flag.
V1_ONLY_OAUTH_FLOWS = ("deviceCode",)
V1_ONLY_OAUTH_FLOW_FIELDS = ("pkceRequired",)
_PRE_V1_VERSION = re.compile(r"0\.\d+")


class NoV03Interface(NotFound):
    """The card's interfaces all speak A2A 1.0 or later; ``details`` lists their versions."""

    code = "no_v03_interface"
    default_message = "The agent serves no interface that speaks A2A v0.3 or older."


def downgrade_to_v03(card: Mapping[str, Any]) -> dict[str, Any]:
    """The v0.3 form of ``card``, a normalized 1.0 card (``normalize_card(...).card``).

    Raises :class:`NoV03Interface` when no interface speaks a pre-1.0 protocol version.
    """
    v03 = copy.deepcopy(dict(card))
    interface_fields = _interface_fields(v03.pop("supportedInterfaces"))
    _move_extended_card_flag(v03)
    _downgrade_requirements(v03)
    for skill in v03["skills"]:
        _downgrade_requirements(skill)
    schemes = v03.get("securitySchemes", {})
    for name, scheme in schemes.items():
        schemes[name] = _v03_scheme(scheme)
    return {**interface_fields, **v03}


def _interface_fields(interfaces: list[dict[str, Any]]) -> dict[str, Any]:
    versions = [_v03_protocol_version(interface["protocolVersion"]) for interface in interfaces]
    version = next((version for version in versions if version is not None), None)
    if version is None:
        offered = list(dict.fromkeys(interface["protocolVersion"] for interface in interfaces))
        raise NoV03Interface(details={"protocolVersions": offered})
    # v0.3's interface is {url, transport}: tenant is a 1.0 request field the v0.3 protocol
    # cannot send, and fields A2A does not define have no place in it.
    listed = [
        {"url": interface["url"], "transport": interface["protocolBinding"]}
        for interface, speaks in zip(interfaces, versions, strict=True)
        if speaks == version
    ]
    # v0.3 recommends that additionalInterfaces repeat the main interface, so that it lists
    # every transport; the upgrade drops that repeat again.
    return {
        "protocolVersion": version,
        "url": listed[0]["url"],
        "preferredTransport": listed[0]["transport"],
        "additionalInterfaces": listed,
    }


def _v03_protocol_version(version: str) -> str | None:
    """``"0.3"`` -> ``"0.3.0"`` (v0.3 names the patch version too); None from 1.0 on."""
    version = major_minor(version)
    return f"{version}.0" if _PRE_V1_VERSION.fullmatch(version) else None


def _move_extended_card_flag(card: dict[str, Any]) -> None:
    capabilities = card["capabilities"]
    if "extendedAgentCard" in capabilities:
        card[V03_EXTENDED_CARD_FLAG] = capabilities.pop("extendedAgentCard")


def _downgrade_requirements(owner: dict[str, Any]) -> None:
    if "securityRequirements" in owner:
        owner["security"] = [
            _v03_requirement(requirement) for requirement in owner.pop("securityRequirements")
        ]


def _v03_requirement(requirement: dict[str, Any]) -> dict[str, list[str]]:
    """``{schemes: {name: {list: scopes}}}`` -> ``{name: scopes}``; proto3 JSON leaves an
    empty scope list out. Fields beside ``schemes`` have no place in v0.3's plain map."""
    schemes = requirement.get("schemes", {})
    return {name: scopes.get("list", []) for name, scopes in schemes.items()}


def _v03_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    """1.0's oneof ``{variant: body}`` -> OpenAPI's ``{type, ...body}``."""
    ((variant, body),) = scheme.items()
    if variant == "apiKeySecurityScheme":
        body["in"] = body.pop("location")
    elif variant == "oauth2SecurityScheme":
        _downgrade_oauth_flows(body["flows"])
    # Last, so that a field "type" A2A does not define, kept inside the variant, cannot win.
    return {**body, "type": V03_SCHEME_TYPES[variant]}


def _downgrade_oauth_flows(flows: dict[str, Any]) -> None:
    # v0.3 knows neither the device flow nor PKCE. A scheme left without flows still tells a
    # v0.3 client that OAuth is needed, and its oauth2MetadataUrl where to learn the rest;
    # dropping it instead would leave requirements that name an undeclared scheme.
    for name in V1_ONLY_OAUTH_FLOWS:
        flows.pop(name, None)
    for flow in flows.values():
        for field in V1_ONLY_OAUTH_FLOW_FIELDS:
            flow.pop(field, None)
        # v0.3 requires scopes on every flow; proto3 JSON leaves an empty map out.
        flow.setdefault("scopes", {})
