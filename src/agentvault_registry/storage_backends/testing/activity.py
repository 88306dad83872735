"""The conformance suite of the activity log and usage counters every records backend must
pass."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import pytest

from agentvault_registry.storage_backends.activity import (
    ActivityEntry,
    ActivityFilter,
    DailyCount,
)
from agentvault_registry.storage_backends.base import RecordsBackend

from .accounts_data import NOW

DAY = dt.timedelta(days=1)
TODAY = NOW.date()
CONCURRENT_FLUSHES = 20


def make_entry(action: str = "agent.created", **changes: Any) -> ActivityEntry:
    """Alice creating agent ``agent-1`` at NOW, unless ``changes`` say otherwise."""
    entry = ActivityEntry(
        action=action,
        actor_kind="user",
        actor_id="user-alice",
        subject_type="agent",
        subject_id="agent-1",
        owner_id="user-alice",
        occurred_at=NOW,
        request_id="req-1",
        details={"name": "Agent 1", "capabilities": ["chat", "search"], "nested": {"a": 1}},
    )
    return dataclasses.replace(entry, **changes)


def seqs(entries: list[ActivityEntry]) -> list[int]:
    return [entry.seq for entry in entries]


class ActivityConformance:
    """The activity log and usage counters in a :class:`RecordsBackend` (its
    :class:`~agentvault_registry.storage_backends.activity.ActivityRecords` part).

    The subclass (named ``Test...`` so pytest collects it) provides one async fixture:

    ``records``
        A records backend on a fresh, empty database, already opened and migrated; the
        fixture closes it after the test.
    """

    async def list_all(self, records: RecordsBackend, **filters: Any) -> list[ActivityEntry]:
        return await records.list_activity(ActivityFilter(**filters), limit=1000)

    # ------------------------------------------------------------------ appending

    async def test_an_empty_log_lists_nothing_and_its_latest_seq_is_zero(
        self, records: RecordsBackend
    ) -> None:
        assert await self.list_all(records) == []
        assert await records.list_activity(ActivityFilter(), limit=5, newest_first=False) == []
        assert await records.latest_activity_seq() == 0
        assert await records.count_activity_by_day(ActivityFilter()) == []

    async def test_an_appended_entry_reads_back_as_it_was_with_its_seq(
        self, records: RecordsBackend
    ) -> None:
        entry = make_entry()
        (stored,) = await records.append_activity([entry])
        assert stored.seq > 0
        assert stored == dataclasses.replace(entry, seq=stored.seq)
        (listed,) = await self.list_all(records)
        assert listed == stored
        assert listed.occurred_at.utcoffset() == dt.timedelta(0)
        assert await records.latest_activity_seq() == stored.seq

    async def test_an_entry_of_the_registry_itself_has_no_actor_or_owner(
        self, records: RecordsBackend
    ) -> None:
        entry = make_entry(
            "peer.synced",
            actor_kind="system",
            actor_id=None,
            owner_id=None,
            subject_id=None,
            request_id=None,
            details={},
        )
        (stored,) = await records.append_activity([entry])
        assert await self.list_all(records) == [stored]

    async def test_entries_appended_together_get_increasing_seqs_in_their_order(
        self, records: RecordsBackend
    ) -> None:
        entries = [make_entry(subject_id=f"agent-{n}") for n in range(5)]
        stored = await records.append_activity(entries)
        assert [entry.subject_id for entry in stored] == [f"agent-{n}" for n in range(5)]
        assert seqs(stored) == sorted(set(seqs(stored)))
        assert await records.latest_activity_seq() == stored[-1].seq

    async def test_appending_nothing_changes_nothing(self, records: RecordsBackend) -> None:
        assert await records.append_activity([]) == []
        assert await records.latest_activity_seq() == 0

    async def test_concurrent_appends_get_distinct_seqs_in_commit_order(
        self, records: RecordsBackend
    ) -> None:
        stored = await asyncio.gather(
            *(records.append_activity([make_entry(subject_id=f"agent-{n}")]) for n in range(20))
        )
        all_seqs = [entry.seq for batch in stored for entry in batch]
        assert len(set(all_seqs)) == 20
        oldest_first = await records.list_activity(ActivityFilter(), limit=50, newest_first=False)
        assert seqs(oldest_first) == sorted(all_seqs)

    async def test_a_naive_timestamp_is_refused(self, records: RecordsBackend) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            await records.append_activity([make_entry(occurred_at=NOW.replace(tzinfo=None))])

    # -------------------------------------------------------------------- paging

    async def test_entries_list_newest_first_by_default(self, records: RecordsBackend) -> None:
        stored = await records.append_activity([make_entry(subject_id=f"a{n}") for n in range(4)])
        assert seqs(await self.list_all(records)) == seqs(stored)[::-1]

    async def test_entries_list_oldest_first_when_asked(self, records: RecordsBackend) -> None:
        stored = await records.append_activity([make_entry(subject_id=f"a{n}") for n in range(4)])
        listed = await records.list_activity(ActivityFilter(), limit=10, newest_first=False)
        assert seqs(listed) == seqs(stored)

    async def test_pages_backwards_with_before_seq_cover_the_log_once(
        self, records: RecordsBackend
    ) -> None:
        stored = await records.append_activity([make_entry(subject_id=f"a{n}") for n in range(7)])
        pages, before = [], None
        while page := await records.list_activity(ActivityFilter(), limit=3, before_seq=before):
            pages.append(seqs(page))
            before = page[-1].seq
        assert [len(page) for page in pages] == [3, 3, 1]
        assert [seq for page in pages for seq in page] == seqs(stored)[::-1]

    async def test_pages_forwards_with_after_seq_cover_the_log_once(
        self, records: RecordsBackend
    ) -> None:
        stored = await records.append_activity([make_entry(subject_id=f"a{n}") for n in range(7)])
        pages, after = [], 0
        while page := await records.list_activity(
            ActivityFilter(), limit=3, after_seq=after, newest_first=False
        ):
            pages.append(seqs(page))
            after = page[-1].seq
        assert [len(page) for page in pages] == [3, 3, 1]
        assert [seq for page in pages for seq in page] == seqs(stored)

    async def test_after_and_before_seq_together_bound_both_ends(
        self, records: RecordsBackend
    ) -> None:
        stored = seqs(await records.append_activity([make_entry() for _ in range(6)]))
        listed = await records.list_activity(
            ActivityFilter(), limit=10, after_seq=stored[1], before_seq=stored[4]
        )
        assert seqs(listed) == [stored[3], stored[2]]

    async def test_limit_caps_the_page(self, records: RecordsBackend) -> None:
        stored = seqs(await records.append_activity([make_entry() for _ in range(5)]))
        assert seqs(await records.list_activity(ActivityFilter(), limit=2)) == stored[:2:-1]

    @pytest.mark.parametrize("limit", [0, -1])
    async def test_a_limit_below_one_is_refused(self, records: RecordsBackend, limit: int) -> None:
        with pytest.raises(ValueError, match="limit"):
            await records.list_activity(ActivityFilter(), limit=limit)

    # ------------------------------------------------------------------- filters

    async def test_actions_filter_matches_exact_actions(self, records: RecordsBackend) -> None:
        created, _, deleted = await records.append_activity(
            [make_entry("agent.created"), make_entry("agent.updated"), make_entry("agent.deleted")]
        )
        listed = await self.list_all(records, actions=("agent.created", "agent.deleted"))
        assert seqs(listed) == [deleted.seq, created.seq]

    async def test_an_action_ending_in_a_dot_matches_every_action_it_prefixes(
        self, records: RecordsBackend
    ) -> None:
        stored = await records.append_activity(
            [
                make_entry("agent.created"),
                make_entry("agent.status_changed"),
                make_entry("agents.imported"),
                make_entry("agent"),
                make_entry("auth.login"),
                make_entry("AGENT.created"),
            ]
        )
        listed = await self.list_all(records, actions=("agent.",))
        assert seqs(listed) == [stored[1].seq, stored[0].seq]

    async def test_prefixes_and_exact_actions_combine(self, records: RecordsBackend) -> None:
        stored = await records.append_activity(
            [make_entry("agent.created"), make_entry("auth.login"), make_entry("api_key.created")]
        )
        listed = await self.list_all(records, actions=("agent.", "api_key.created"))
        assert seqs(listed) == [stored[2].seq, stored[0].seq]

    async def test_an_action_filter_is_case_sensitive(self, records: RecordsBackend) -> None:
        await records.append_activity([make_entry("agent.created")])
        assert await self.list_all(records, actions=("Agent.Created",)) == []
        assert await self.list_all(records, actions=("AGENT.",)) == []

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("actor_id", "user-bob"),
            ("owner_id", "user-bob"),
            ("subject_type", "user"),
            ("subject_id", "agent-2"),
        ],
    )
    async def test_each_field_filter_matches_only_its_value(
        self, records: RecordsBackend, field: str, value: str
    ) -> None:
        _, matching = await records.append_activity([make_entry(), make_entry(**{field: value})])
        assert await self.list_all(records, **{field: value}) == [matching]

    async def test_field_filters_combine_with_and(self, records: RecordsBackend) -> None:
        stored = await records.append_activity(
            [
                make_entry(subject_type="agent", subject_id="x"),
                make_entry(subject_type="user", subject_id="x"),
                make_entry(subject_type="agent", subject_id="y"),
            ]
        )
        assert await self.list_all(records, subject_type="agent", subject_id="x") == [stored[0]]

    async def test_owner_or_actor_matches_entries_owned_or_done_by_the_user(
        self, records: RecordsBackend
    ) -> None:
        stored = await records.append_activity(
            [
                make_entry(actor_id="user-bob", owner_id="user-bob"),
                make_entry(actor_id="user-admin", owner_id="user-bob"),
                make_entry(actor_id="user-bob", owner_id=None),
                make_entry(actor_id="user-alice", owner_id="user-alice"),
                make_entry(actor_kind="system", actor_id=None, owner_id=None),
            ]
        )
        listed = await self.list_all(records, owner_or_actor_id="user-bob")
        assert seqs(listed) == [stored[2].seq, stored[1].seq, stored[0].seq]
        combined = await self.list_all(records, owner_or_actor_id="user-bob", actor_id="user-bob")
        assert seqs(combined) == [stored[2].seq, stored[0].seq]

    async def test_since_is_inclusive_and_until_exclusive(self, records: RecordsBackend) -> None:
        stored = await records.append_activity(
            [make_entry(occurred_at=NOW + n * dt.timedelta(minutes=1)) for n in range(4)]
        )
        minute = dt.timedelta(minutes=1)
        listed = await self.list_all(records, since=NOW + minute, until=NOW + 3 * minute)
        assert seqs(listed) == [stored[2].seq, stored[1].seq]

    async def test_time_bounds_compare_instants_whatever_their_zone(
        self, records: RecordsBackend
    ) -> None:
        (stored,) = await records.append_activity([make_entry()])
        zone = dt.timezone(dt.timedelta(hours=5))
        assert await self.list_all(records, since=NOW.astimezone(zone)) == [stored]
        assert await self.list_all(records, until=NOW.astimezone(zone)) == []

    async def test_filters_apply_within_seq_bounds(self, records: RecordsBackend) -> None:
        stored = await records.append_activity(
            [make_entry("auth.login" if n % 2 else "agent.created") for n in range(8)]
        )
        logins = [entry.seq for entry in stored if entry.action == "auth.login"]
        page = await records.list_activity(
            ActivityFilter(actions=("auth.login",)), limit=2, before_seq=logins[-1]
        )
        assert seqs(page) == [logins[-2], logins[-3]]

    # ---------------------------------------------------------------- daily counts

    async def test_entries_are_counted_per_utc_day_and_action(
        self, records: RecordsBackend
    ) -> None:
        late_evening = dt.datetime.combine(TODAY, dt.time(23, 30), dt.UTC)
        # 23:30 UTC is the next day in UTC+5: the day counted is the UTC one.
        await records.append_activity(
            [
                make_entry("agent.created", occurred_at=late_evening),
                make_entry(
                    "agent.created",
                    occurred_at=late_evening.astimezone(dt.timezone(dt.timedelta(hours=5))),
                ),
                make_entry("agent.deleted", occurred_at=late_evening),
                make_entry("agent.created", occurred_at=late_evening + dt.timedelta(hours=1)),
                make_entry("auth.login", occurred_at=late_evening),
            ]
        )
        counts = await records.count_activity_by_day(
            ActivityFilter(actions=("agent.created", "agent.deleted"))
        )
        assert counts == [
            DailyCount(TODAY, "agent.created", 2),
            DailyCount(TODAY, "agent.deleted", 1),
            DailyCount(TODAY + DAY, "agent.created", 1),
        ]

    async def test_daily_counts_follow_the_filter_and_time_bounds(
        self, records: RecordsBackend
    ) -> None:
        await records.append_activity(
            [
                make_entry(occurred_at=NOW - 2 * DAY),
                make_entry(occurred_at=NOW),
                make_entry(occurred_at=NOW, owner_id="user-bob"),
            ]
        )
        counts = await records.count_activity_by_day(
            ActivityFilter(owner_id="user-alice", since=NOW - DAY)
        )
        assert counts == [DailyCount(TODAY, "agent.created", 1)]

    # -------------------------------------------------------------------- usage

    async def test_usage_of_an_unused_counter_is_empty(self, records: RecordsBackend) -> None:
        assert await records.usage_by_day("searches", since=TODAY - 30 * DAY) == []

    async def test_usage_adds_up_per_day_name_and_key(self, records: RecordsBackend) -> None:
        await records.add_usage(
            {
                (TODAY, "searches", ""): 3,
                (TODAY - DAY, "searches", ""): 2,
                (TODAY, "api_requests", "user-alice"): 7,
            }
        )
        await records.add_usage(
            {(TODAY, "searches", ""): 4, (TODAY, "api_requests", "user-bob"): 1}
        )
        assert await records.usage_by_day("searches", since=TODAY - 30 * DAY) == [
            DailyCount(TODAY - DAY, "searches", 2),
            DailyCount(TODAY, "searches", 7),
        ]
        assert await records.usage_by_day("api_requests", key="user-alice", since=TODAY - DAY) == [
            DailyCount(TODAY, "api_requests", 7)
        ]
        assert await records.usage_by_day("api_requests", since=TODAY - DAY) == []

    async def test_usage_days_are_bounded_since_inclusive_until_exclusive(
        self, records: RecordsBackend
    ) -> None:
        await records.add_usage({(TODAY + n * DAY, "searches", ""): n + 1 for n in range(5)})
        counts = await records.usage_by_day("searches", since=TODAY + DAY, until=TODAY + 3 * DAY)
        assert counts == [
            DailyCount(TODAY + DAY, "searches", 2),
            DailyCount(TODAY + 2 * DAY, "searches", 3),
        ]

    async def test_adding_nothing_or_zero_stores_no_day(self, records: RecordsBackend) -> None:
        await records.add_usage({})
        await records.add_usage({(TODAY, "searches", ""): 0})
        assert await records.usage_by_day("searches", since=TODAY) == []

    async def test_a_negative_count_is_refused(self, records: RecordsBackend) -> None:
        with pytest.raises(ValueError, match="negative"):
            await records.add_usage({(TODAY, "searches", ""): -1})
        assert await records.usage_by_day("searches", since=TODAY) == []

    async def test_concurrent_additions_all_count(self, records: RecordsBackend) -> None:
        # Each flush adds to the same two counters, given in different orders.
        flushes = [
            dict(
                sorted(
                    {(TODAY, "searches", ""): 1, (TODAY, "api_requests", "user-alice"): 2}.items(),
                    reverse=bool(n % 2),
                )
            )
            for n in range(CONCURRENT_FLUSHES)
        ]
        await asyncio.gather(*(records.add_usage(flush) for flush in flushes))
        assert await records.usage_by_day("searches", since=TODAY) == [
            DailyCount(TODAY, "searches", CONCURRENT_FLUSHES)
        ]
        assert await records.usage_by_day("api_requests", key="user-alice", since=TODAY) == [
            DailyCount(TODAY, "api_requests", 2 * CONCURRENT_FLUSHES)
        ]
