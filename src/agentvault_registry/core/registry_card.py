"""The registry's own A2A 1.0 Agent Card, served at ``/.well-known/agent-card.json``."""

from __future__ import annotations

from typing import Any

import pluggy

import agentvault_registry
from agentvault_registry.config.settings import Settings

A2A_PROTOCOL_VERSION = "1.0"

DISCOVERY_SKILL: dict[str, Any] = {
    "id": "agent-discovery",
    "name": "Agent discovery",
    "description": (
        "Find registered AI agents by free text, capability, tag and A2A features, including "
        "agents listed on federated peer registries; returns their A2A Agent Cards."
    ),
    "tags": ["discovery", "registry", "search", "a2a"],
    "examples": [
        "Find agents that can translate documents",
        "List agents with streaming support tagged 'finance'",
    ],
    "inputModes": ["application/json", "text/plain"],
    "outputModes": ["application/json"],
}


def build_registry_card(
    settings: Settings, pm: pluggy.PluginManager, base_url: str
) -> dict[str, Any]:
    """The card; ``base_url`` is the configured public URL or the one the caller used."""
    registry = settings.registry
    skills = [DISCOVERY_SKILL]
    seen = {DISCOVERY_SKILL["id"]}
    for contributed in pm.hook.registry_card_skills(settings=settings):
        for skill in contributed or ():
            if skill["id"] not in seen:
                seen.add(skill["id"])
                skills.append(skill)
    card: dict[str, Any] = {
        "name": registry.name,
        "description": registry.description,
        "supportedInterfaces": [
            {
                "url": f"{base_url}/api/v1",
                "protocolBinding": "HTTP+JSON",
                "protocolVersion": A2A_PROTOCOL_VERSION,
            }
        ],
        "provider": {"organization": registry.organization, "url": registry.organization_url},
        "version": agentvault_registry.__version__,
        "documentationUrl": registry.documentation_url or f"{base_url}/api/docs",
        "capabilities": {
            "streaming": False,
            "pushNotifications": False,
            "extendedAgentCard": False,
        },
        "securitySchemes": {
            "bearerAuth": {
                "httpAuthSecurityScheme": {
                    "scheme": "Bearer",
                    "bearerFormat": "JWT",
                    "description": "Needed only to register and manage agents; discovery is open.",
                }
            }
        },
        "defaultInputModes": ["application/json"],
        "defaultOutputModes": ["application/json"],
        "skills": skills,
    }
    return card
