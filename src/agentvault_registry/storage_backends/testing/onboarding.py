"""The conformance suite of the onboarding records every records backend must pass."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from agentvault_registry.core.errors import Conflict
from agentvault_registry.storage_backends.accounts import ApiKeyRecord, UserRecord
from agentvault_registry.storage_backends.agents import AgentFilter, AgentRecord, agent_snapshot
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.onboarding import (
    CONSUMED,
    EXPIRED,
    REVOKED,
    UNKNOWN,
    BootstrapTokenRecord,
    BootstrapTokenRefused,
)

from .accounts_data import LATER, NOW, SOON, TwoUsers, make_api_key
from .agents import created_event, make_agent

CONCURRENT_REDEMPTIONS = 100
#: Rounds of a revocation racing a redemption, half of them with the revocation sent first.
RACE_ROUNDS = 10


def make_bootstrap_token(number: int, creator_id: str, **changes: object) -> BootstrapTokenRecord:
    """Token ``number``, minted ``number`` seconds after NOW and expiring at LATER."""
    token = BootstrapTokenRecord(
        id=f"token-{number}",
        digest=f"digest-of-token-{number}",
        creator_id=creator_id,
        created_at=NOW + dt.timedelta(seconds=number),
        expires_at=LATER,
    )
    return dataclasses.replace(token, **changes)


def agent_key(agent: AgentRecord) -> ApiKeyRecord:
    """The API key minted for ``agent`` as it onboards."""
    return make_api_key(f"key-of-{agent.id}", agent.developer_id, agent_id=agent.id)


class OnboardingConformance(TwoUsers):
    """Bootstrap tokens of a :class:`RecordsBackend`.

    The subclass (named ``Test...`` so pytest collects it) provides one async fixture:

    ``records``
        A records backend on a fresh, empty database, already opened and migrated; the
        fixture closes it after the test.
    """

    @pytest.fixture
    async def token(self, records: RecordsBackend, alice: UserRecord) -> BootstrapTokenRecord:
        minted = make_bootstrap_token(1, alice.id)
        await records.add_bootstrap_token(minted)
        return minted

    async def redeem(
        self,
        records: RecordsBackend,
        token: BootstrapTokenRecord,
        agent: AgentRecord,
        now: dt.datetime = SOON,
    ) -> AgentRecord:
        return await records.redeem_bootstrap_token(
            token.digest, now, agent, created_event(agent), agent_key(agent)
        )

    async def assert_refused(
        self,
        records: RecordsBackend,
        token: BootstrapTokenRecord,
        agent: AgentRecord,
        reason: str,
        now: dt.datetime = SOON,
    ) -> None:
        """Redeeming is refused for ``reason`` and writes nothing: no agent, event or key, and
        the token is as it was."""
        before = (await records.find_bootstrap_token(token.digest), await _feed(records))
        with pytest.raises(BootstrapTokenRefused) as caught:
            await self.redeem(records, token, agent, now)
        assert caught.value.reason == reason
        assert (await records.find_bootstrap_token(token.digest), await _feed(records)) == before
        assert await records.get_agent(agent.id) is None
        assert await records.find_api_key(agent_key(agent).digest) is None

    # ------------------------------------------------------------ add, find, get

    async def test_add_then_find_by_digest_and_get_by_id_give_every_field(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        token = make_bootstrap_token(
            1,
            alice.id,
            agent_type_hint="mcp",
            metadata={"team": {"name": "core", "members": ["a", "b"]}, "tier": 2, "beta": None},
        )
        await records.add_bootstrap_token(token)
        assert await records.find_bootstrap_token(token.digest) == token
        assert await records.get_bootstrap_token(token.id) == token

    async def test_token_without_hint_or_metadata_round_trips(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        stored = await records.get_bootstrap_token(token.id)
        assert stored == token
        assert stored is not None
        assert (stored.agent_type_hint, stored.metadata, stored.consumed) == (None, {}, False)

    async def test_consumed_and_revoked_state_round_trips(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        agent = make_agent(1, alice.id)
        await records.create_agent(agent, created_event(agent))
        consumed = make_bootstrap_token(
            1, alice.id, consumed=True, consumed_at=SOON, consumed_by_agent_id=agent.id
        )
        revoked = make_bootstrap_token(2, alice.id, revoked_at=SOON)
        for token in (consumed, revoked):
            await records.add_bootstrap_token(token)
            assert await records.get_bootstrap_token(token.id) == token

    async def test_a_token_consumed_by_an_unknown_agent_conflicts(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        with pytest.raises(Conflict):
            await records.add_bootstrap_token(
                make_bootstrap_token(1, alice.id, consumed=True, consumed_by_agent_id="no-such")
            )
        # The failed write left the backend usable.
        token = make_bootstrap_token(2, alice.id)
        await records.add_bootstrap_token(token)
        assert (await records.list_bootstrap_tokens(alice.id, limit=10)).tokens == [token]

    async def test_timestamps_come_back_as_the_same_instant_in_utc(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        elsewhere = dt.timezone(dt.timedelta(hours=-5))
        await records.add_bootstrap_token(
            make_bootstrap_token(1, alice.id, expires_at=LATER.astimezone(elsewhere))
        )
        stored = await records.get_bootstrap_token("token-1")
        assert stored is not None
        assert stored.expires_at == LATER
        assert stored.expires_at.utcoffset() == dt.timedelta(0)

    async def test_find_and_get_of_unknown_tokens_are_none(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        assert await records.find_bootstrap_token("no-such-digest") is None
        assert await records.get_bootstrap_token("no-such-token") is None

    async def test_digest_is_unique(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        with pytest.raises(Conflict):
            await records.add_bootstrap_token(
                make_bootstrap_token(2, token.creator_id, digest=token.digest)
            )
        assert await records.get_bootstrap_token("token-2") is None

    # --------------------------------------------------------------- listing

    async def test_list_is_newest_first_and_only_the_creators(
        self, records: RecordsBackend, alice: UserRecord, bob: UserRecord
    ) -> None:
        for number, creator in enumerate((alice, bob, alice, alice), start=1):
            await records.add_bootstrap_token(make_bootstrap_token(number, creator.id))
        page = await records.list_bootstrap_tokens(alice.id, limit=10)
        assert [token.id for token in page.tokens] == ["token-4", "token-3", "token-1"]
        assert (page.total, page.next_after) == (3, None)
        bobs = await records.list_bootstrap_tokens(bob.id, limit=10)
        assert [token.id for token in bobs.tokens] == ["token-2"]

    async def test_list_shows_every_state(self, records: RecordsBackend, alice: UserRecord) -> None:
        tokens = [
            make_bootstrap_token(1, alice.id, expires_at=NOW),
            make_bootstrap_token(2, alice.id, revoked_at=SOON),
            make_bootstrap_token(3, alice.id, metadata={"purpose": "ci"}),
        ]
        for token in tokens:
            await records.add_bootstrap_token(token)
        page = await records.list_bootstrap_tokens(alice.id, limit=10)
        assert page.tokens == tokens[::-1]

    async def test_list_of_a_user_without_tokens_is_empty(
        self, records: RecordsBackend, bob: UserRecord, token: BootstrapTokenRecord
    ) -> None:
        page = await records.list_bootstrap_tokens(bob.id, limit=10)
        assert (page.tokens, page.total, page.next_after) == ([], 0, None)

    async def test_keyset_pages_cover_every_token_once_even_with_equal_created_at(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        # Ids in mixed case and punctuation: their order must be code-point order everywhere.
        ids = ["tok-b", "Tok-a", "tok_c", "TOK-D", "tok-a", "tok.e", "Tok-B"]
        for number, token_id in enumerate(ids, start=1):
            await records.add_bootstrap_token(
                make_bootstrap_token(
                    number,
                    alice.id,
                    id=token_id,
                    created_at=NOW + dt.timedelta(seconds=number // 3),
                )
            )
        seen, after = [], None
        while True:
            page = await records.list_bootstrap_tokens(alice.id, limit=3, after=after)
            assert page.total == len(ids)
            seen += page.tokens
            if page.next_after is None:
                break
            assert page.next_after == (page.tokens[-1].created_at, page.tokens[-1].id)
            after = page.next_after
        keys = [(token.created_at, token.id) for token in seen]
        assert keys == sorted(keys, reverse=True)
        assert sorted(token.id for token in seen) == sorted(ids)

    async def test_offset_skips_rows_after_the_keyset_position(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number in range(1, 8):
            await records.add_bootstrap_token(make_bootstrap_token(number, alice.id))
        second = await records.list_bootstrap_tokens(alice.id, limit=2, offset=2)
        assert [token.id for token in second.tokens] == ["token-5", "token-4"]
        assert second.next_after == (second.tokens[-1].created_at, "token-4")
        after_offset = await records.list_bootstrap_tokens(
            alice.id, limit=2, after=second.next_after, offset=1
        )
        assert [token.id for token in after_offset.tokens] == ["token-2", "token-1"]
        assert (after_offset.total, after_offset.next_after) == (7, None)
        beyond = await records.list_bootstrap_tokens(alice.id, limit=2, offset=7)
        assert (beyond.tokens, beyond.total, beyond.next_after) == ([], 7, None)

    async def test_a_full_last_page_has_no_next_position(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number in range(1, 5):
            await records.add_bootstrap_token(make_bootstrap_token(number, alice.id))
        page = await records.list_bootstrap_tokens(alice.id, limit=4)
        assert (len(page.tokens), page.next_after) == (4, None)

    # ---------------------------------------------------------------- revoke

    async def test_revoke_sets_revoked_at_and_returns_the_token(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        revoked = dataclasses.replace(token, revoked_at=SOON)
        assert await records.revoke_bootstrap_token(token.id, SOON) == revoked
        assert await records.get_bootstrap_token(token.id) == revoked

    async def test_revoke_twice_keeps_the_first_revoked_at(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        await records.revoke_bootstrap_token(token.id, SOON)
        again = await records.revoke_bootstrap_token(token.id, LATER)
        assert again == dataclasses.replace(token, revoked_at=SOON)

    async def test_revoke_of_an_unknown_token_is_none(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        assert await records.revoke_bootstrap_token("no-such-token", SOON) is None

    async def test_revoke_of_a_consumed_token_returns_it_untouched(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        await self.redeem(records, token, make_agent(1, token.creator_id))
        consumed = await records.get_bootstrap_token(token.id)
        assert consumed is not None
        assert consumed.consumed
        assert await records.revoke_bootstrap_token(token.id, LATER) == consumed
        assert await records.get_bootstrap_token(token.id) == consumed

    # ---------------------------------------------------------------- redeem

    async def test_redeem_consumes_the_token_and_stores_agent_event_and_key(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        agent = make_agent(1, token.creator_id)
        assert await self.redeem(records, token, agent) == agent
        assert await records.get_bootstrap_token(token.id) == dataclasses.replace(
            token, consumed=True, consumed_at=SOON, consumed_by_agent_id=agent.id
        )
        assert await records.get_agent(agent.id) == agent
        events = await records.list_agent_events()
        assert [(event.event_type, event.agent_id) for event in events] == [("created", agent.id)]
        assert events[0].snapshot == agent_snapshot(agent)
        key = await records.find_api_key(agent_key(agent).digest)
        assert key == agent_key(agent)
        assert key is not None
        assert key.agent_id == agent.id

    async def test_redeem_of_an_unknown_digest_is_refused_as_unknown(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        unknown = dataclasses.replace(token, digest="no-such-digest")
        await self.assert_refused(records, unknown, make_agent(1, token.creator_id), UNKNOWN)

    async def test_redeem_of_another_developers_token_is_refused_as_unknown(
        self, records: RecordsBackend, token: BootstrapTokenRecord, bob: UserRecord
    ) -> None:
        await self.assert_refused(records, token, make_agent(1, bob.id), UNKNOWN)
        agent = make_agent(2, token.creator_id)
        assert await self.redeem(records, token, agent) == agent

    @pytest.mark.parametrize(
        "now", [LATER, LATER + dt.timedelta(microseconds=1)], ids=["at-expiry", "after"]
    )
    async def test_redeem_of_an_expired_token_is_refused_as_expired(
        self, records: RecordsBackend, token: BootstrapTokenRecord, now: dt.datetime
    ) -> None:
        await self.assert_refused(records, token, make_agent(1, token.creator_id), EXPIRED, now)

    async def test_redeem_just_before_expiry_succeeds(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        agent = make_agent(1, token.creator_id)
        just_before = token.expires_at - dt.timedelta(microseconds=1)
        assert await self.redeem(records, token, agent, just_before) == agent

    async def test_redeem_of_a_revoked_token_is_refused_as_revoked(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        await records.revoke_bootstrap_token(token.id, SOON)
        await self.assert_refused(records, token, make_agent(1, token.creator_id), REVOKED)

    async def test_second_redeem_is_refused_as_consumed(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        first = make_agent(1, token.creator_id)
        await self.redeem(records, token, first)
        await self.assert_refused(records, token, make_agent(2, token.creator_id), CONSUMED)
        # Consumed outranks expired: a replay after expiry still says what happened.
        await self.assert_refused(records, token, make_agent(3, token.creator_id), CONSUMED, LATER)
        assert await records.get_agent(first.id) == first

    async def test_a_taken_slug_conflicts_and_leaves_the_token_usable(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        existing = make_agent(1, token.creator_id)
        await records.create_agent(existing, created_event(existing))
        clash = make_agent(2, token.creator_id, human_readable_id="AGENT-1")
        with pytest.raises(Conflict) as caught:
            await self.redeem(records, token, clash)
        assert caught.value.details == {"field": "human_readable_id"}
        assert await records.get_bootstrap_token(token.id) == token
        assert await records.get_agent(clash.id) is None
        assert await records.find_api_key(agent_key(clash).digest) is None
        assert [event.agent_id for event in await records.list_agent_events()] == [existing.id]
        renamed = dataclasses.replace(clash, human_readable_id="Agent-2")
        assert await self.redeem(records, token, renamed) == renamed

    async def test_a_taken_api_key_digest_conflicts_and_writes_nothing(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        agent = make_agent(1, token.creator_id)
        taken = make_api_key("key-taken", token.creator_id, digest=agent_key(agent).digest)
        await records.add_api_key(taken)
        with pytest.raises(Conflict):
            await self.redeem(records, token, agent)
        assert await records.get_bootstrap_token(token.id) == token
        assert await records.get_agent(agent.id) is None
        assert await records.list_agent_events() == []
        assert await records.find_api_key(taken.digest) == taken

    async def test_concurrent_redemptions_of_one_token_succeed_once(
        self, records: RecordsBackend, token: BootstrapTokenRecord
    ) -> None:
        agents = [
            make_agent(number, token.creator_id) for number in range(1, CONCURRENT_REDEMPTIONS + 1)
        ]
        results = await asyncio.gather(
            *(self.redeem(records, token, agent) for agent in agents), return_exceptions=True
        )
        winners = [result for result in results if isinstance(result, AgentRecord)]
        assert len(winners) == 1
        reasons = [
            result.reason if isinstance(result, BootstrapTokenRefused) else result
            for result in results
            if not isinstance(result, AgentRecord)
        ]
        assert reasons == [CONSUMED] * (CONCURRENT_REDEMPTIONS - 1)
        stored = await records.get_bootstrap_token(token.id)
        assert stored is not None
        assert stored.consumed_by_agent_id == winners[0].id
        page = await records.list_agents(AgentFilter(), limit=CONCURRENT_REDEMPTIONS)
        assert page.agents == winners
        assert [event.agent_id for event in await records.list_agent_events()] == [winners[0].id]
        for agent in agents:
            expected = agent_key(agent) if agent == winners[0] else None
            assert await records.find_api_key(agent_key(agent).digest) == expected

    async def test_a_revocation_racing_a_redemption_ends_consistent(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number in range(1, RACE_ROUNDS + 1):
            token = make_bootstrap_token(number, alice.id)
            await records.add_bootstrap_token(token)
            agent = make_agent(number, alice.id)
            redemption = self.redeem(records, token, agent)
            revocation = records.revoke_bootstrap_token(token.id, SOON)
            racers = (redemption, revocation) if number % 2 else (revocation, redemption)
            results = await asyncio.gather(*racers, return_exceptions=True)
            redeemed, revoked = results if number % 2 else results[::-1]
            final = await records.get_bootstrap_token(token.id)
            assert revoked == final
            assert final is not None
            if isinstance(redeemed, AgentRecord):
                assert (final.consumed, final.revoked_at) == (True, None)
                assert await records.get_agent(agent.id) == agent
            else:
                assert isinstance(redeemed, BootstrapTokenRefused), redeemed
                assert redeemed.reason == REVOKED
                assert (final.consumed, final.revoked_at) == (False, SOON)
                assert await records.get_agent(agent.id) is None
                assert await records.find_api_key(agent_key(agent).digest) is None

    # ----------------------------------------------------------------- purge

    async def test_purge_deletes_unconsumed_tokens_expired_before_the_cutoff(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        cutoff = LATER + dt.timedelta(hours=1)
        expired = make_bootstrap_token(1, alice.id)
        revoked = make_bootstrap_token(2, alice.id, revoked_at=SOON)
        at_cutoff = make_bootstrap_token(3, alice.id, expires_at=cutoff)
        unexpired = make_bootstrap_token(4, alice.id, expires_at=cutoff + dt.timedelta(days=1))
        consumed = make_bootstrap_token(5, alice.id)
        for token in (expired, revoked, at_cutoff, unexpired, consumed):
            await records.add_bootstrap_token(token)
        await self.redeem(records, consumed, make_agent(1, alice.id))
        assert await records.purge_bootstrap_tokens(cutoff) == 2
        remaining = await records.list_bootstrap_tokens(alice.id, limit=10)
        assert [token.id for token in remaining.tokens] == ["token-5", "token-4", "token-3"]
        assert await records.find_bootstrap_token(expired.digest) is None
        assert await records.purge_bootstrap_tokens(cutoff) == 0


async def _feed(records: RecordsBackend) -> list[tuple[str, str]]:
    return [(event.event_type, event.agent_id) for event in await records.list_agent_events()]
