"""A2A Agent Cards: the 1.0 schema, normalizing published cards, deriving missing ones.

Plain library code, no HTTP: the agents plugin stores what :func:`normalize_card` returns
and serves :func:`derive_card`'s output for agents without a card.
"""

from agentvault_registry.a2a.derive import derive_card, extract_search_fields
from agentvault_registry.a2a.document import MAX_CARD_BYTES, MAX_NESTING_DEPTH
from agentvault_registry.a2a.normalize import CardRefused, NormalizedCard, normalize_card
from agentvault_registry.a2a.schemas import AgentCardSchema

__all__ = [
    "MAX_CARD_BYTES",
    "MAX_NESTING_DEPTH",
    "AgentCardSchema",
    "CardRefused",
    "NormalizedCard",
    "derive_card",
    "extract_search_fields",
    "normalize_card",
]
