"""Cards for agents that publish none, and the fields of a card that search indexes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

A2A_PROTOCOL_VERSION = "1.0"
#: The A2A security scheme variants and the short names discovery filters them by.
SECURITY_SCHEME_TYPES = {
    "apiKeySecurityScheme": "apiKey",
    "httpAuthSecurityScheme": "http",
    "oauth2SecurityScheme": "oauth2",
    "openIdConnectSecurityScheme": "openIdConnect",
    "mtlsSecurityScheme": "mutualTLS",
}
DERIVED_BINDING = "JSONRPC"
#: The skill of a record that lists no capabilities: the agent as a whole.
GENERAL_SKILL_ID = "general"


def derive_card(
    *,
    name: str,
    description: str,
    endpoints: Sequence[str],
    capabilities: Sequence[str],
    version: str,
    provider_organization: str | None = None,
    provider_url: str | None = None,
    documentation_url: str | None = None,
    input_modes: Sequence[str] = ("text/plain",),
    output_modes: Sequence[str] = ("text/plain",),
) -> dict[str, Any]:
    """A valid A2A 1.0 card built from a registry record.

    The first endpoint becomes a JSONRPC interface, A2A's default binding; the record does
    not say how the others are spoken to, so they are left out rather than guessed. Each
    capability becomes a skill with that id and tag. Without ``provider_url`` the provider's
    URL is the first endpoint's origin.
    """
    if not endpoints:
        raise ValueError("An A2A card needs an interface URL, and the record lists no endpoint.")
    card: dict[str, Any] = {
        "name": name,
        "description": description,
        "supportedInterfaces": [
            {
                "url": endpoints[0],
                "protocolBinding": DERIVED_BINDING,
                "protocolVersion": A2A_PROTOCOL_VERSION,
            }
        ],
        "version": version,
        "capabilities": {},
        "defaultInputModes": list(input_modes),
        "defaultOutputModes": list(output_modes),
        "skills": _skills(name, description, capabilities),
    }
    if provider_organization:
        card["provider"] = {
            "organization": provider_organization,
            "url": provider_url or _origin(endpoints[0]),
        }
    if documentation_url:
        card["documentationUrl"] = documentation_url
    return card


def extract_search_fields(card: dict[str, Any]) -> dict[str, Any]:
    """What discovery searches and filters on, from a normalized (valid) card."""
    skills = card["skills"]
    capabilities = card["capabilities"]
    return {
        "name": card["name"],
        "description": card["description"],
        "skill_ids": _unique(skill["id"] for skill in skills),
        "skill_names": _unique(skill["name"] for skill in skills),
        "skill_tags": _unique(tag for skill in skills for tag in skill["tags"]),
        "input_modes": _modes(card, "defaultInputModes", "inputModes"),
        "output_modes": _modes(card, "defaultOutputModes", "outputModes"),
        "bindings": _unique(item["protocolBinding"] for item in card["supportedInterfaces"]),
        "streaming": capabilities.get("streaming", False),
        "push_notifications": capabilities.get("pushNotifications", False),
        "provider_organization": card.get("provider", {}).get("organization"),
        "security_schemes": _unique(
            SECURITY_SCHEME_TYPES[variant]
            for scheme in card.get("securitySchemes", {}).values()
            for variant in scheme
            if variant in SECURITY_SCHEME_TYPES
        ),
        "extensions": _unique(item["uri"] for item in capabilities.get("extensions", [])),
    }


def _skills(name: str, description: str, capabilities: Sequence[str]) -> list[dict[str, Any]]:
    if not capabilities:
        return [
            {"id": GENERAL_SKILL_ID, "name": name, "description": description, "tags": ["general"]}
        ]
    return [
        {
            "id": capability,
            "name": capability,
            "description": f"{capability}, as {name} lists it among its capabilities.",
            "tags": [capability],
        }
        for capability in _unique(capabilities)
    ]


def _modes(card: dict[str, Any], default_field: str, skill_field: str) -> list[str]:
    per_skill = (mode for skill in card["skills"] for mode in skill.get(skill_field, []))
    return _unique([*card[default_field], *per_skill])


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
