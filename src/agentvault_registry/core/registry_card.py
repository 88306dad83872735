"""The registry's own A2A 1.0 Agent Card, served at ``/.well-known/agent-card.json``."""

from __future__ import annotations

from typing import Any

import pluggy
from marshmallow import RAISE, Schema, ValidationError, fields, validate

import agentvault_registry
from agentvault_registry.config.settings import Settings
from agentvault_registry.core.errors import PluginError
from agentvault_registry.core.plugins import results_by_plugin

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


class AgentSkillSchema(Schema):
    """An A2A 1.0 ``AgentSkill`` as plugins contribute it (camelCase JSON names)."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(1, 200))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(required=True, validate=validate.Length(1, 4000))
    tags = fields.List(fields.String(validate=validate.Length(min=1)), required=True)
    examples = fields.List(fields.String())
    inputModes = fields.List(fields.String())
    outputModes = fields.List(fields.String())
    securityRequirements = fields.List(fields.Dict())


def collect_card_skills(settings: Settings, pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """The registry's skills: discovery first, then each plugin's, validated, ids unique.

    Runs when the app is built, so a plugin contributing a malformed skill stops startup
    instead of breaking every request for the card.
    """
    skills = [DISCOVERY_SKILL]
    seen = {DISCOVERY_SKILL["id"]}
    for plugin, contributed in results_by_plugin(pm.hook.register_card_skills, settings=settings):
        for skill in contributed or ():
            try:
                skill = AgentSkillSchema().load(skill)
            except ValidationError as exc:
                raise PluginError(
                    f"plugin {plugin!r} contributes an invalid skill: {exc.messages}"
                ) from None
            if skill["id"] not in seen:
                seen.add(skill["id"])
                skills.append(skill)
    return skills


def build_registry_card(
    settings: Settings, skills: list[dict[str, Any]], base_url: str
) -> dict[str, Any]:
    """The card; ``base_url`` is the configured public URL or the one the caller used."""
    registry = settings.registry
    return {
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
