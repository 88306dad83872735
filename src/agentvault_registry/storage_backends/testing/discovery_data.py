"""Agents, queries and walks the discovery conformance suites are built from."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from agentvault_registry.a2a.derive import derive_card, extract_search_fields
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.discovery import (
    DiscoveryQuery,
    SearchPage,
    plain_words,
    sort_key,
    term,
)

from .accounts_data import NOW
from .agents import created_event, make_agent

#: "Agent" in full-width letters, and with a mathematical bold capital (outside the BMP).
FULLWIDTH_AGENT = "\uff21\uff47\uff45\uff4e\uff54"
BOLD_AGENT = "\U0001d400gent"
#: More pages than any walk of the suites needs: a walk that never ends fails instead.
MAX_PAGES = 1_000


def make_listed_agent(
    number: int, developer_id: str, *, card: dict[str, Any] | None = None, **changes: Any
) -> AgentRecord:
    """Agent ``number`` (see :func:`make_agent`) with the card summary that the A2A card
    derived from its record gives it, as the agents plugin stores it; ``card`` overrides
    fields of that summary (``bindings``, ``streaming``, ``skill_names`` ...)."""
    agent = make_agent(number, developer_id, **changes)
    derived = derive_card(
        name=agent.name,
        description=agent.description,
        endpoints=[f"https://agent-{number}.example/a2a"],
        capabilities=agent.capabilities,
        version="1.0",
    )
    summary = {**extract_search_fields(derived), **(card or {})}
    return dataclasses.replace(agent, card_summary=summary)


def any_of(kind: str, *values: object) -> tuple[str, ...]:
    """A filter group: an agent matches it with any one of these values of ``kind``."""
    return tuple(term(kind, value) for value in values)


ACTIVE_ONLY = any_of("status", "active")


def find(text: str = "", *groups: tuple[str, ...], sort: str = "created_at") -> DiscoveryQuery:
    """The query for free ``text`` (its :func:`plain_words`) and filter ``groups``."""
    return DiscoveryQuery(words=plain_words(text), groups=groups, sort=sort)


async def add(records: RecordsBackend, *agents: AgentRecord) -> list[AgentRecord]:
    """Create ``agents`` one by one, as the agents plugin does."""
    return [await records.create_agent(agent, created_event(agent)) for agent in agents]


async def found(records: RecordsBackend, query: DiscoveryQuery) -> list[str]:
    """Names of every agent matching ``query``, sorted, duplicates kept."""
    page = await records.search_agents(query, limit=100)
    assert page.next_after is None, "the suites' match sets fit in one page"
    return sorted(agent.name for agent in page.agents)


def in_sort_order(agents: list[AgentRecord], sort: str) -> list[AgentRecord]:
    """``agents`` in the order of ``sort`` as the contract defines it."""
    descending = sort != "name"
    return sorted(agents, key=lambda agent: sort_key(agent, sort), reverse=descending)


async def walk(
    records: RecordsBackend,
    query: DiscoveryQuery,
    *,
    limit: int,
    between_pages: Callable[[AgentRecord], Awaitable[None]] | None = None,
) -> list[AgentRecord]:
    """Every page of ``query`` by keyset, concatenated; ``between_pages`` is awaited with the
    last agent of each page before the next page is asked for."""
    seen: list[AgentRecord] = []
    after = None
    for _ in range(MAX_PAGES):
        page: SearchPage = await records.search_agents(query, limit=limit, after=after)
        seen += page.agents
        if page.next_after is None:
            return seen
        assert len(page.agents) == limit, "only the last page may be short"
        assert page.next_after == sort_key(page.agents[-1], query.sort)
        after = page.next_after
        if between_pages is not None:
            await between_pages(page.agents[-1])
    raise AssertionError(f"the walk did not end within {MAX_PAGES} pages")


def crowd_agent(number: int, developer_id: str) -> AgentRecord:
    """One of a crowd whose three sort orders all differ from each other and from id order,
    with ties in each: creation and update times repeat, names repeat, and names mix case,
    digits, punctuation, accents, full-width and astral letters (code-point order only).
    One in three translates; one in ten is deleted."""
    created = NOW + dt.timedelta(seconds=(number * 37) % 101)
    return make_listed_agent(
        number,
        developer_id,
        name=CROWD_NAMES[number % len(CROWD_NAMES)] + ("" if number % 3 else f" {number}"),
        created_at=created,
        updated_at=created + dt.timedelta(seconds=(number * 11) % 53),
        capabilities=("translate", "chat") if number % 3 == 0 else ("chat",),
        status=CROWD_STATUSES.get(number % 10, "active"),
    )


#: Statuses of the crowd other than active, by the last digit of the agent's number.
CROWD_STATUSES = {0: "inactive", 5: "deprecated", 7: "deleted"}


CROWD_NAMES = (
    "alpha",
    "Alpha",
    "ALPHA",
    "_under",
    "Zeta",
    "zeta",
    "éclair",
    "Éclair",
    "ángel",
    "10 agents",
    "9 lives",
    "a b",
    "a-b",
    "a_b",
    FULLWIDTH_AGENT,
    BOLD_AGENT,
    "日本",
    "Agent",
)
