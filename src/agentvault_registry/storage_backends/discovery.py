"""The records the ``discovery`` plugin searches: a search index over the agents.

Part of the records interface (:class:`~agentvault_registry.storage_backends.base.RecordsBackend`
inherits :class:`DiscoveryRecords`). Every backend keeps, beside each agent that is not deleted,

- its **text** (:func:`agent_text`): name, keywords (capabilities, tags, skills) and
  description, searched by words and ranked with the name weighing most, then keywords, then
  description (PostgreSQL: a weighted ``tsvector``; SQLite: an FTS5 table);
- its **terms** (:func:`agent_terms`): ``kind:value`` strings, one per filterable fact
  (``capability:translate``, ``binding:GRPC``, ``streaming:true`` ...). Every filter of a
  query is a group of terms an agent must have one of, and the groups are combined with AND.

The index is written in the same transaction as the agent, so a search never sees an agent
its index disagrees with. Deleted agents (tombstones) are not indexed.
"""

from __future__ import annotations

import abc
import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentvault_registry.storage_backends.agents import (
    DELETED,
    AgentRecord,
    health_status,
    signature_status,
)

#: What a term's kind may be; the value after the first ``:`` is free text.
TERM_KINDS = (
    "status",
    "agent_type",
    "developer",
    "capability",
    "tag",
    "verified",
    "pricing",
    "currency",
    "binding",
    "streaming",
    "push_notifications",
    "input_mode",
    "output_mode",
    "security_scheme",
    "extension",
    "signature",
    "health",
)
SORTS = ("relevance", "created_at", "updated_at", "name")
#: Words too common to mean anything: queries drop them (PostgreSQL drops its own list too).
_STOP_WORD_LIST = """a about above after again against all am an and any are as at be because
    been before being below between both but by can did do does doing don down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with you your yours yourself yourselves s t"""
STOP_WORDS = frozenset(_STOP_WORD_LIST.split())
MAX_WORDS = 16
#: Bumped whenever what :func:`agent_terms` or :func:`agent_text` derive changes: backends
#: rebuild an index built by an older version when they migrate (registry meta
#: ``discovery_index_version``).
INDEX_VERSION = "3"
_WORD = re.compile(r"[^\W_]+")


def term(kind: str, value: Any) -> str:
    """The term for ``kind:value``; booleans are ``true``/``false``."""
    if kind not in TERM_KINDS:
        raise ValueError(f"unknown term kind {kind!r}")
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"{kind}:{value}"


def term_value(kind: str, stored: str) -> str:
    """The value part of a term of ``kind``."""
    return stored[len(kind) + 1 :]


def media_type_term(media_type: str) -> str:
    """A media type as terms hold it: case folded (media types are case-insensitive) and
    without blanks around its parameters, so ``Text/Plain; charset=UTF-8`` is one value."""
    return ";".join(part.strip() for part in media_type.lower().split(";"))


def plain_words(text: str) -> tuple[str, ...]:
    """The words of free text as both engines match them: letters and digits in Unicode
    normal form NFKC, lower-cased, without stop words and repeats, at most :data:`MAX_WORDS`.
    Quotes, operators, wildcards and column filters of either engine's syntax are separators
    here, so no user text reaches an engine as syntax."""
    words: dict[str, None] = {}
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower()):
        if word not in STOP_WORDS:
            words.setdefault(word)
    return tuple(words)[:MAX_WORDS]


@dataclass(frozen=True)
class AgentText:
    name: str
    #: Capabilities, tags, skill ids, names and tags, space-separated.
    keywords: str
    description: str


def agent_text(agent: AgentRecord) -> AgentText:
    summary = agent.card_summary
    keywords = dict.fromkeys(
        [
            *agent.capabilities,
            *agent.tags,
            *summary.get("skill_ids", ()),
            *summary.get("skill_names", ()),
            *summary.get("skill_tags", ()),
        ]
    )
    return AgentText(name=agent.name, keywords=" ".join(keywords), description=agent.description)


def agent_terms(agent: AgentRecord) -> frozenset[str]:
    """Every term of ``agent``. Boolean facts have a term either way, so ``streaming=false``
    is a filter like any other."""
    summary = agent.card_summary
    pricing = agent.pricing or {}
    values: list[tuple[str, Any]] = [
        ("status", agent.status),
        ("agent_type", agent.agent_type),
        ("developer", agent.developer_id),
        ("verified", agent.verified),
        ("pricing", bool(pricing)),
        ("streaming", bool(summary.get("streaming", False))),
        ("push_notifications", bool(summary.get("push_notifications", False))),
        ("signature", signature_status(agent)),
        ("health", health_status(agent)),
    ]
    if isinstance(pricing.get("currency"), str):
        values.append(("currency", pricing["currency"].upper()))
    for kind, items in (
        ("capability", agent.capabilities),
        ("tag", agent.tags),
        ("binding", summary.get("bindings", ())),
        ("input_mode", map(media_type_term, summary.get("input_modes", ()))),
        ("output_mode", map(media_type_term, summary.get("output_modes", ()))),
        ("security_scheme", summary.get("security_schemes", ())),
        ("extension", summary.get("extensions", ())),
    ):
        values.extend((kind, item) for item in items)
    return frozenset(term(kind, value) for kind, value in values)


def indexed(agent: AgentRecord) -> bool:
    """Whether ``agent`` belongs in the search index: tombstones do not."""
    return agent.status != DELETED


@dataclass(frozen=True)
class DiscoveryQuery:
    #: Words from :func:`plain_words`; an agent matches when its text has every one (stemmed
    #: by the engine: ``translation`` finds ``translate``). A backend may also let a word no
    #: agent has stand for the words it closely resembles (PostgreSQL: trigram similarity
    #: over the indexed vocabulary), so a typo still finds what it meant.
    words: tuple[str, ...] = ()
    #: Groups of terms: an agent matches when it has at least one term of every group.
    groups: tuple[tuple[str, ...], ...] = ()
    #: ``relevance`` (needs words), ``created_at``/``updated_at`` (newest first) or ``name``
    #: (code-point order, A first); ties broken by id in the same direction.
    sort: str = "created_at"

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"unknown sort {self.sort!r}")
        if self.sort == "relevance" and not self.words:
            raise ValueError("relevance needs words to rank by")
        if any(not group for group in self.groups):
            raise ValueError("a group without terms matches nothing; leave it out")


#: Where a page ends in the sort order: ``(created_at, id)``, ``(updated_at, id)`` or
#: ``(name, id)``. Relevance pages by offset (its candidates are capped anyway).
SortKey = tuple[Any, str]


@dataclass(frozen=True)
class SearchPage:
    agents: list[AgentRecord]
    #: Matches counted up to the count limit (for relevance: the rank limit);
    #: ``total_exact`` is False beyond it.
    total: int
    total_exact: bool
    #: Key of the last agent when there are more after it (never for relevance).
    next_after: SortKey | None
    #: Relevance scores, by agent id, higher is better (relevance only; engine-specific scale).
    scores: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TermCounts:
    #: Agents per value of the counted kind, among the matching agents.
    counts: Mapping[str, int]
    #: False when only the first ``sample_limit`` matches were counted.
    exact: bool


def sort_key(agent: AgentRecord, sort: str) -> SortKey:
    """The keyset position of ``agent`` in ``sort`` order (not for relevance)."""
    value: dt.datetime | str = {
        "created_at": agent.created_at,
        "updated_at": agent.updated_at,
        "name": agent.name,
    }[sort]
    return (value, agent.id)


def check_search_arguments(
    query: DiscoveryQuery,
    *,
    limit: int,
    after: SortKey | None,
    offset: int,
    count_limit: int,
    rank_limit: int,
) -> None:
    """``ValueError`` for arguments no backend can answer (a programming error, not input)."""
    if limit < 1 or offset < 0 or count_limit < 0 or rank_limit < 1:
        raise ValueError(
            "limit and rank_limit must be positive, offset and count_limit not negative"
        )
    if query.sort == "relevance" and after is not None:
        raise ValueError("relevance pages by offset, not by keyset")


class DiscoveryRecords(abc.ABC):
    @abc.abstractmethod
    async def search_agents(
        self,
        query: DiscoveryQuery,
        *,
        limit: int,
        after: SortKey | None = None,
        offset: int = 0,
        count_limit: int = 1_000,
        rank_limit: int = 1_000,
    ) -> SearchPage:
        """Agents matching ``query`` in its sort order, after the keyset position ``after``
        (not for relevance) and then ``offset`` rows; the total counted up to
        ``count_limit``.

        Relevance ranks a capped candidate set: at most ``rank_limit`` matches, the most
        recently indexed first, so a common word never ranks 100,000 rows; the total is then
        ``min(matches, rank_limit)`` and inexact beyond it. A walk by keyset shows every agent
        that matches throughout it exactly once, whatever is inserted meanwhile (an agent
        updated during a walk sorted by ``updated_at`` moves, and may be missed)."""

    @abc.abstractmethod
    async def count_terms(
        self, query: DiscoveryQuery, *, kind: str, sample_limit: int = 10_000
    ) -> TermCounts:
        """How many matching agents have each value of terms of ``kind`` (facets; values no
        matching agent has are left out). Exact when
        the query is no more than one status group (kept as running counts); otherwise only
        the first ``sample_limit`` matches are counted, and ``exact`` says whether that was
        all of them."""

    @abc.abstractmethod
    async def import_agents(self, agents: Sequence[AgentRecord]) -> None:
        """Insert many new agents at once, each with its ``created`` event (actor: the
        developer) and its index entries, in one transaction: the bulk path for seeding and
        imports, many times faster than ``create_agent`` per agent. A taken id, DID or slug is
        ``Conflict`` and nothing of the batch is stored."""
