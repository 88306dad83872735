"""Turning a published Agent Card into a valid A2A 1.0 card, or refusing it with reasons.

What has one clear meaning is accepted and rewritten, and every rewrite is listed in the
warnings: the v0.2/v0.3 layout, v0.3 leftovers in a 1.0 card, other spellings of field names
and bindings, OpenAPI-shaped security. What has not is refused (422) with the field path, as
the document spelled it, and the reason: no usable interface URL, no skills or skills
without id/name/description/tags, wrong types, no JSON object, no agent card at all.
Fields A2A does not define are kept and named in a warning.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from agentvault_registry.a2a.document import load_document
from agentvault_registry.a2a.report import DOCUMENT, NormalizationLog, summarize_paths
from agentvault_registry.a2a.schemas import AgentCardSchema, unknown_fields
from agentvault_registry.a2a.security_upgrades import upgrade_security
from agentvault_registry.a2a.spelling import (
    capabilities_from_names,
    respell_field_names,
    respell_interfaces,
)
from agentvault_registry.a2a.upgrades import (
    layout_version,
    upgrade_capability_flags,
    upgrade_interfaces,
)
from agentvault_registry.a2a.urls import interface_host_warning
from agentvault_registry.core.errors import ValidationFailed

#: Without skills and without an endpoint, a JSON object describes something else.
AGENT_CARD_MARKERS = ("skills", "supportedInterfaces", "url")


class CardRefused(ValidationFailed):
    """The document is no usable A2A Agent Card; ``details`` maps field paths to reasons."""

    code = "invalid_agent_card"
    default_message = "The document is not a usable A2A Agent Card."


@dataclass(frozen=True)
class NormalizedCard:
    #: A valid A2A 1.0 card; fields A2A does not define are kept.
    card: dict[str, Any]
    #: The document as it was given, for audit and for normalizing again later.
    original: dict[str, Any]
    #: The layout the document used: "1.0", "0.3" or "0.2".
    source_version: str
    #: What was changed or is worth knowing, one sentence each; empty for a clean 1.0 card.
    warnings: list[str]


def normalize_card(document: Any) -> NormalizedCard:
    """``document`` is JSON text (str or bytes) or parsed JSON; raises :class:`CardRefused`."""
    log = NormalizationLog()
    original = load_document(document, log)
    if original is None:
        raise CardRefused(details=log.problems)
    card = copy.deepcopy(original)
    respell_field_names(card, log)
    if not any(marker in card for marker in AGENT_CARD_MARKERS):
        log.refuse(
            DOCUMENT,
            "Not an A2A Agent Card: it has neither skills nor an interface "
            "(supportedInterfaces or url).",
        )
        raise CardRefused(details=log.problems)
    source_version = layout_version(card)
    capabilities_from_names(card, log)
    upgrade_capability_flags(card, log)
    upgrade_interfaces(card, log)
    respell_interfaces(card, log)
    upgrade_security(card, log)
    log.refuse_schema_errors(AgentCardSchema().validate(card))
    if log.problems:
        raise CardRefused(details=log.problems)
    _note_what_is_kept_as_is(card, log)
    return NormalizedCard(card, original, source_version, log.warnings)


def _note_what_is_kept_as_is(card: dict[str, Any], log: NormalizationLog) -> None:
    for index, interface in enumerate(card["supportedInterfaces"]):
        warning = interface_host_warning(interface["url"])
        if warning is not None:
            log.changed(f"supportedInterfaces.{index}.url: {warning}")
    unknown = unknown_fields(card)
    if unknown:
        log.changed(f"Kept fields that A2A 1.0 does not define: {summarize_paths(unknown)}.")
