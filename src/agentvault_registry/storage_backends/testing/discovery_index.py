"""How the discovery index follows the agents: every write, the onboarding path, imports."""

from __future__ import annotations

import datetime as dt

import pytest

from agentvault_registry.core.errors import Conflict, PreconditionFailed
from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.agents import (
    DELETED,
    INACTIVE,
    AgentRecord,
    agent_snapshot,
)
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.discovery import INDEX_VERSION, DiscoveryQuery

from .accounts_data import SOON, TwoUsers
from .agents import created_event, updated_event
from .discovery_data import ACTIVE_ONLY, add, any_of, find, found, make_listed_agent
from .discovery_facets import counted
from .onboarding import agent_key, make_bootstrap_token

#: Skills that say nothing of an agent's capabilities, so a capability's words are only in
#: its capabilities.
GENERAL_SKILL = {"skill_ids": ["general"], "skill_names": ["General"], "skill_tags": ["general"]}
#: Each way an imported agent can clash with a stored one or another of its batch, and the
#: field its ``Conflict`` names.
CLASH_FIELDS = {
    "taken-id": "id",
    "taken-did": "did",
    "taken-slug": "human_readable_id",
    "id-twice-in-the-batch": "id",
    "slug-twice-in-the-batch": "human_readable_id",
}


async def update(
    records: RecordsBackend,
    agent: AgentRecord,
    at: dt.datetime | None = None,
    **changes: object,
) -> AgentRecord:
    event = updated_event(agent.id) if at is None else updated_event(agent.id, at)
    return await records.update_agent(agent.id, agent.version, changes, event)


async def capability_counts(records: RecordsBackend) -> dict[str, int]:
    return counted(await records.count_terms(DiscoveryQuery(), kind="capability"))


class DiscoveryIndex(TwoUsers):
    """The index of :class:`DiscoveryRecords` agrees with every agent write at once."""

    @pytest.fixture
    async def finder(self, records: RecordsBackend, alice: UserRecord) -> AgentRecord:
        (agent,) = await add(
            records,
            make_listed_agent(
                1,
                alice.id,
                name="Quokka Finder",
                description="Spots marsupials on islands.",
                capabilities=("translate",),
                tags=("finance",),
                card={**GENERAL_SKILL, "bindings": ["GRPC"], "streaming": True},
            ),
        )
        await add(records, make_listed_agent(2, alice.id, name="Bystander"))
        return agent

    # ---------------------------------------------------------------- updates

    async def test_a_renamed_agent_is_found_by_its_new_name_only(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        await update(records, finder, name="Wombat Finder")
        assert await found(records, find("quokka")) == []
        assert await found(records, find("wombat")) == ["Wombat Finder"]

    async def test_changed_capabilities_change_the_filter_and_the_words(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        await update(records, finder, capabilities=("summarize",))
        assert await found(records, find("", any_of("capability", "translate"))) == []
        assert await found(records, find("translation")) == []
        assert await found(records, find("", any_of("capability", "summarize"))) == [finder.name]
        assert await found(records, find("summarize")) == [finder.name]

    async def test_changed_tags_change_the_filter_and_the_words(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        await update(records, finder, tags=("travel",))
        assert await found(records, find("", any_of("tag", "finance"))) == []
        assert await found(records, find("finance")) == []
        assert await found(records, find("", any_of("tag", "travel"))) == [finder.name]
        assert await found(records, find("travel")) == [finder.name]

    async def test_a_changed_description_changes_the_words(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        await update(records, finder, description="Counts penguins on beaches.")
        assert await found(records, find("marsupials")) == []
        assert await found(records, find("penguin")) == [finder.name]

    async def test_a_status_change_moves_the_agent_between_status_filters(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        await update(records, finder, status=INACTIVE)
        assert await found(records, find("quokka", ACTIVE_ONLY)) == []
        assert await found(records, find("quokka", any_of("status", INACTIVE))) == [finder.name]
        assert await found(records, find("quokka")) == [finder.name]

    async def test_a_changed_card_summary_changes_the_a2a_filters_and_skill_words(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        card = {**finder.card_summary, "bindings": ["JSONRPC"], "streaming": False}
        card["skill_names"] = ["Penguin Counting"]
        await update(records, finder, card_summary=card)
        assert await found(records, find("", any_of("binding", "GRPC"))) == []
        assert await found(records, find("", any_of("streaming", True))) == []
        assert await found(records, find("", any_of("binding", "JSONRPC"))) == [
            "Bystander",
            finder.name,
        ]
        assert await found(records, find("penguin")) == [finder.name]

    async def test_an_update_of_other_fields_keeps_the_agent_found(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        await update(records, finder, metadata={"team": "core"}, teg_wallet_address="0xabc")
        assert await found(records, find("quokka", any_of("capability", "translate"))) == [
            finder.name
        ]

    async def test_a_deleted_agent_leaves_searches_and_counts(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        await update(records, finder, status=DELETED)
        for query in (
            find("quokka"),
            find("", any_of("capability", "translate")),
            find("", any_of("status", DELETED)),
        ):
            assert await found(records, query) == [], query
        assert await found(records, DiscoveryQuery()) == ["Bystander"]
        assert await capability_counts(records) == {"chat": 1}

    async def test_an_agent_restored_from_deleted_is_found_and_counted_again(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        deleted = await update(records, finder, status=DELETED)
        await update(records, deleted, status="active")
        assert await found(records, find("quokka", ACTIVE_ONLY)) == [finder.name]
        assert await capability_counts(records) == {"chat": 1, "translate": 1}

    async def test_a_failed_update_leaves_the_index_as_it_was(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        with pytest.raises(Conflict):
            await update(
                records, finder, name="Wombat Finder", human_readable_id="agent-2", tags=("x",)
            )
        await update(records, finder, description="Counts penguins.")
        with pytest.raises(PreconditionFailed):
            await update(records, finder, capabilities=("summarize",), status=DELETED)
        assert await found(records, find("wombat")) == []
        assert await found(records, find("", any_of("tag", "x"))) == []
        assert await found(records, find("quokka penguin", any_of("tag", "finance"))) == [
            finder.name
        ]
        assert await capability_counts(records) == {"chat": 1, "translate": 1}

    async def test_a_failed_create_indexes_nothing(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        clash = make_listed_agent(
            3, finder.developer_id, name="Wombat Keeper", human_readable_id="AGENT-1"
        )
        with pytest.raises(Conflict):
            await add(records, clash)
        assert await found(records, find("wombat")) == []
        assert await capability_counts(records) == {"chat": 1, "translate": 1}

    async def test_the_updated_at_sort_puts_the_agent_just_updated_first(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        before = await records.search_agents(DiscoveryQuery(sort="updated_at"), limit=10)
        assert [agent.name for agent in before.agents] == ["Bystander", finder.name]
        await update(records, finder, description="Counts penguins.")
        after = await records.search_agents(DiscoveryQuery(sort="updated_at"), limit=10)
        assert [agent.name for agent in after.agents] == [finder.name, "Bystander"]

    async def test_the_name_sort_follows_a_rename(
        self, records: RecordsBackend, finder: AgentRecord
    ) -> None:
        await update(records, finder, name="Aardvark Finder")
        page = await records.search_agents(DiscoveryQuery(sort="name"), limit=10)
        assert [agent.name for agent in page.agents] == ["Aardvark Finder", "Bystander"]

    async def test_an_agent_onboarded_with_a_bootstrap_token_is_found(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        token = make_bootstrap_token(1, alice.id)
        await records.add_bootstrap_token(token)
        agent = make_listed_agent(1, alice.id, name="Quokka Finder", capabilities=("translate",))
        await records.redeem_bootstrap_token(
            token.digest, SOON, agent, created_event(agent), agent_key(agent)
        )
        assert await found(records, find("quokka", any_of("capability", "translate"))) == [
            agent.name
        ]
        assert await capability_counts(records) == {"translate": 1}

    async def test_migrate_records_the_version_of_the_index_it_built(
        self, records: RecordsBackend
    ) -> None:
        assert await records.get_meta("discovery_index_version") == INDEX_VERSION

    # ---------------------------------------------------------------- imports

    async def test_imported_agents_are_stored_found_and_counted(
        self, records: RecordsBackend, alice: UserRecord, bob: UserRecord
    ) -> None:
        batch = [
            make_listed_agent(1, alice.id, name="Quokka Finder", capabilities=("translate",)),
            make_listed_agent(2, bob.id, card={"bindings": ["GRPC"]}),
            make_listed_agent(3, alice.id, status=INACTIVE, tags=("finance",)),
        ]
        await records.import_agents(batch)
        for agent in batch:
            assert await records.get_agent(agent.id) == agent
        assert await found(records, find("quokka")) == ["Quokka Finder"]
        assert await found(records, find("", any_of("binding", "GRPC"))) == ["Agent 2"]
        assert await found(records, find("finance", any_of("developer", alice.id))) == ["Agent 3"]
        page = await records.search_agents(DiscoveryQuery(), limit=10)
        assert [agent.id for agent in page.agents] == [agent.id for agent in batch[::-1]]
        assert await capability_counts(records) == {"translate": 1, "chat": 2}

    async def test_import_appends_a_created_event_per_agent_with_its_snapshot(
        self, records: RecordsBackend, alice: UserRecord, bob: UserRecord
    ) -> None:
        batch = [make_listed_agent(1, alice.id), make_listed_agent(2, bob.id)]
        await records.import_agents(batch)
        events = await records.list_agent_events()
        assert sorted(
            (event.event_type, event.agent_id, event.actor_id, event.snapshot) for event in events
        ) == sorted(
            ("created", agent.id, agent.developer_id, agent_snapshot(agent)) for agent in batch
        )
        assert len({event.seq for event in events}) == 2

    async def test_imported_tombstones_are_stored_but_not_indexed(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        tombstone = make_listed_agent(1, alice.id, name="Quokka Finder", status=DELETED)
        await records.import_agents([tombstone, make_listed_agent(2, alice.id)])
        assert await records.get_agent(tombstone.id) == tombstone
        assert await found(records, find("quokka")) == []
        assert await found(records, DiscoveryQuery()) == ["Agent 2"]
        assert await capability_counts(records) == {"chat": 1}

    async def test_imported_agents_follow_later_updates(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        agent = make_listed_agent(1, alice.id, name="Quokka Finder", card=GENERAL_SKILL)
        await records.import_agents([agent])
        await update(records, agent, name="Wombat Finder", capabilities=("summarize",))
        assert await found(records, find("quokka")) == []
        assert await found(records, find("wombat", any_of("capability", "summarize"))) == [
            "Wombat Finder"
        ]
        assert await capability_counts(records) == {"summarize": 1}

    async def test_importing_nothing_stores_nothing(self, records: RecordsBackend) -> None:
        await records.import_agents([])
        assert await records.list_agent_events() == []
        assert await found(records, DiscoveryQuery()) == []

    @pytest.mark.parametrize("clash", list(CLASH_FIELDS))
    async def test_a_conflicting_import_stores_nothing_of_the_batch(
        self, records: RecordsBackend, alice: UserRecord, clash: str
    ) -> None:
        (existing,) = await add(records, make_listed_agent(1, alice.id))
        batch = [
            make_listed_agent(10, alice.id, name="Quokka Finder", capabilities=("translate",)),
            make_listed_agent(11, alice.id, name="Quokka Keeper", capabilities=("translate",)),
        ]
        conflicting = {
            "taken-id": {"id": existing.id},
            "taken-did": {"did": existing.did},
            "taken-slug": {"human_readable_id": "AGENT-1"},
            "id-twice-in-the-batch": {"id": batch[0].id},
            "slug-twice-in-the-batch": {"human_readable_id": "agent-10"},
        }[clash]
        batch.append(make_listed_agent(12, alice.id, name="Quokka Scout", **conflicting))
        with pytest.raises(Conflict) as caught:
            await records.import_agents(batch)
        assert caught.value.details == {"field": CLASH_FIELDS[clash]}
        for agent in batch:
            stored = await records.get_agent(agent.id)
            assert stored is None or stored == existing
        assert [event.agent_id for event in await records.list_agent_events()] == [existing.id]
        assert await found(records, find("quokka")) == []
        assert await capability_counts(records) == {"chat": 1}
