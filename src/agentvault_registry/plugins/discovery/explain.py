"""Why a result matched (``explain=true``): the fields its words were found in, the filters it
met and with which values, and the trust facts a client weighs (health, signature, proof of
ownership).

The engines match stems and, on PostgreSQL, near spellings; the explanation reads the same
fields back and names a field for a word when one of the field's words shares the word's
stem, so a word matched only by its spelling's resemblance is listed without fields.
"""

from __future__ import annotations

from typing import Any

from agentvault_registry.plugins.discovery.schemas import FILTERS, PREFERENCES, Search, StatusFlag
from agentvault_registry.storage_backends.agents import AgentRecord, health_status, signature_status
from agentvault_registry.storage_backends.discovery import (
    DiscoveryQuery,
    agent_terms,
    agent_text,
    plain_words,
    term,
    term_value,
)

#: Endings stripped before comparing words (what an English stemmer would fold).
_SUFFIXES = ("ations", "ation", "ings", "ing", "ions", "ion", "ers", "er", "ed", "es", "s")
_MIN_STEM = 3


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def explanation(
    agent: AgentRecord, search: Search, query: DiscoveryQuery, score: float | None
) -> dict[str, Any]:
    terms = agent_terms(agent)
    explained: dict[str, Any] = {
        "matched_words": _matched_words(agent, query.words),
        "matched_filters": _matched_filters(search, terms),
        "health": health_status(agent),
        "signature": signature_status(agent),
        "verified": agent.verified,
    }
    if search.prefer:
        explained["preferred"] = [
            name
            for name in search.prefer
            if term(PREFERENCES[name].kind, PREFERENCES[name].yes) in terms
        ]
    if score is not None:
        explained["score"] = round(score, 6)
    return explained


def _matched_words(agent: AgentRecord, words: tuple[str, ...]) -> dict[str, list[str]]:
    text = agent_text(agent)
    stems = {
        field: {stem(word) for word in plain_words_all(value)}
        for field, value in (
            ("name", text.name),
            ("keywords", text.keywords),
            ("description", text.description),
        )
    }
    return {
        word: [field for field, field_stems in stems.items() if stem(word) in field_stems]
        for word in words
    }


def plain_words_all(text: str) -> tuple[str, ...]:
    """Every word of ``text`` as search sees words (not only the first few a query keeps)."""
    return tuple(word for chunk in text.split() for word in plain_words(chunk))


def _matched_filters(search: Search, terms: frozenset[str]) -> dict[str, Any]:
    """Each filter of the search, with the values of it the agent has."""
    matched: dict[str, Any] = {}
    capabilities = [*search.capabilities_any, *search.capabilities_all]
    if capabilities:
        matched["capabilities"] = [
            value for value in capabilities if term("capability", value) in terms
        ]
    for name, wanted in search.filters.items():
        spec = FILTERS[name]
        if isinstance(spec, StatusFlag) or isinstance(wanted, bool):
            matched[name] = wanted
        else:
            matched[name] = [
                term_value(spec.kind, held)
                for held in sorted(terms)
                if held in {term(spec.kind, value) for value in wanted}
            ]
    return matched
