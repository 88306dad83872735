"""Starter registration templates: ready-to-post ``POST /api/v1/agents`` bodies per agent type.

The built-in ones are JSON files shipped in ``templates/``; plugins add theirs through
``register_agent_templates``. Every template is checked at startup (its body must be a valid
registration with a valid A2A card), so a broken one stops the registry instead of handing
developers a body that would be refused.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import ValidationError

from agentvault_registry.a2a.normalize import CardRefused, normalize_card
from agentvault_registry.plugins.agents.schemas import AgentCreateSchema
from agentvault_registry.plugins.discovery.responses import TemplateSchema

_PACKAGE = "agentvault_registry.plugins.discovery"


class TemplateError(ValueError):
    """A template that cannot be offered; startup reports it."""


def builtin_templates() -> list[dict[str, Any]]:
    folder = importlib.resources.files(_PACKAGE) / "templates"
    return [
        json.loads(entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda item: item.name)
        if entry.name.endswith(".json")
    ]


def checked_templates(templates: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The templates, each validated, in a stable order (agent type, then id)."""
    by_id: dict[str, dict[str, Any]] = {}
    for template in templates:
        checked = _checked(template)
        if checked["id"] in by_id:
            raise TemplateError(f"Two agent templates have the id {checked['id']!r}.")
        by_id[checked["id"]] = checked
    return sorted(by_id.values(), key=lambda item: (item["agent_type"], item["id"]))


def _checked(template: Mapping[str, Any]) -> dict[str, Any]:
    try:
        checked = TemplateSchema().load(template)
        AgentCreateSchema().load(checked["body"])
        if "card" in checked["body"]:
            normalize_card(checked["body"]["card"])
    except ValidationError as exc:
        raise TemplateError(f"Agent template {template.get('id')!r}: {exc.messages}") from None
    except CardRefused as exc:
        raise TemplateError(f"Agent template {template.get('id')!r}: {exc.details}") from None
    return checked
