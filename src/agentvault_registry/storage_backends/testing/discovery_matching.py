"""Which agents a discovery query matches: filter groups, statuses and words."""

from __future__ import annotations

from typing import Any

import pytest

from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.agents import DELETED, DEPRECATED, INACTIVE
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.discovery import DiscoveryQuery

from .accounts_data import TwoUsers
from .discovery_data import ACTIVE_ONLY, add, any_of, find, found, make_listed_agent

#: For each kind of term: the value filtered on, and how an agent comes to have it.
TERM_CASES: dict[str, tuple[object, dict[str, Any]]] = {
    "status": ("inactive", {"status": INACTIVE}),
    "agent_type": ("mcp", {"agent_type": "mcp"}),
    "developer": ("user-bob", {"developer_id": "user-bob"}),
    "capability": ("translate", {"capabilities": ("translate",)}),
    "tag": ("finance", {"tags": ("finance", "ledger")}),
    "verified": (True, {"verified": True}),
    "pricing": (True, {"pricing": {"model": "per_call", "amount": 0.25, "currency": "usd"}}),
    # agent_terms upper-cases the currency: the filter finds the lower-case one.
    "currency": ("USD", {"pricing": {"model": "per_call", "amount": 0.25, "currency": "usd"}}),
    "binding": ("HTTP+JSON", {"card": {"bindings": ["GRPC", "HTTP+JSON"]}}),
    "streaming": (True, {"card": {"streaming": True}}),
    "push_notifications": (True, {"card": {"push_notifications": True}}),
    "input_mode": ("audio/wav", {"card": {"input_modes": ["text/plain", "audio/wav"]}}),
    "output_mode": ("image/png", {"card": {"output_modes": ["image/png"]}}),
    "security_scheme": ("oauth2", {"card": {"security_schemes": ["apiKey", "oauth2"]}}),
    "extension": (
        "https://example.org/ext/traceability/v1",
        {"card": {"extensions": ["https://example.org/ext/traceability/v1"]}},
    ),
}

#: Free text no agent of the test below says anything like, each giving at least one word
#: both engines must take as plain text.
ODD_TEXTS = {
    "fts-syntax": 'NEAR("zyzzyva" * b) col:umn^2',
    "sql": "'; DROP TABLE agents_fts; --",
    "cjk": "日本語の翻訳",
    "emoji-and-word": "🤖✨ zyzzyva",
    "nul": "\x00null",
    "combining-marks": "e\u0301\u0301",
    "full-width": "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48",
    "lone-surrogate": "\ud800 lone",
    "long-word": "x" * 300,
    "arabic": "ترجمة",
    "thai": "แปลภาษา",
    "devanagari": "अनुवाद",
    "dotted-capital-i": "İstanbul",
    "zero-width-joiner": "zero\u200dwidth",
    "titlecase-digraph": "ǅemal",
    "hangul-jamo": "\u1100\u1161",
    "roman-numeral-and-fractions": "ⅷ ², ½",
    "greek-and-signs": "Ω K Å",
}


class DiscoveryMatching(TwoUsers):
    """Matching of :class:`DiscoveryRecords`: terms, statuses and words."""

    # ------------------------------------------------------------------ terms

    @pytest.mark.parametrize("kind", list(TERM_CASES))
    async def test_each_term_kind_filters(
        self, records: RecordsBackend, alice: UserRecord, bob: UserRecord, kind: str
    ) -> None:
        value, changes = TERM_CASES[kind]
        changes = {"developer_id": alice.id, **changes}
        await add(
            records,
            make_listed_agent(1, alice.id),
            make_listed_agent(2, name="Has it", **changes),
            make_listed_agent(3, alice.id),
        )
        assert await found(records, find("", any_of(kind, value))) == ["Has it"]

    @pytest.mark.parametrize("kind", ["verified", "pricing", "streaming", "push_notifications"])
    async def test_boolean_kinds_filter_on_false_too(
        self, records: RecordsBackend, alice: UserRecord, kind: str
    ) -> None:
        _, changes = TERM_CASES[kind]
        await add(
            records,
            make_listed_agent(1, alice.id, name="Has it", **changes),
            make_listed_agent(2, alice.id, name="Lacks it"),
        )
        assert await found(records, find("", any_of(kind, False))) == ["Lacks it"]
        assert await found(records, find("", any_of(kind, True))) == ["Has it"]

    async def test_terms_of_one_group_are_alternatives(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Translator", capabilities=("translate",)),
            make_listed_agent(2, alice.id, name="Summarizer", capabilities=("summarize", "chat")),
            make_listed_agent(3, alice.id, name="Chatter", capabilities=("chat",)),
        )
        query = find("", any_of("capability", "translate", "summarize"))
        assert await found(records, query) == ["Summarizer", "Translator"]

    async def test_groups_must_all_match(self, records: RecordsBackend, alice: UserRecord) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Both", capabilities=("translate", "summarize")),
            make_listed_agent(2, alice.id, name="Translate only", capabilities=("translate",)),
            make_listed_agent(3, alice.id, name="Summarize only", capabilities=("summarize",)),
        )
        query = find("", any_of("capability", "translate"), any_of("capability", "summarize"))
        assert await found(records, query) == ["Both"]

    async def test_groups_of_different_kinds_must_all_match(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        grpc = {"bindings": ["GRPC"]}
        await add(
            records,
            make_listed_agent(1, alice.id, name="Wanted", capabilities=("translate",), card=grpc),
            make_listed_agent(2, alice.id, name="Other binding", capabilities=("translate",)),
            make_listed_agent(3, alice.id, name="Other capability", card=grpc),
            make_listed_agent(
                4, alice.id, name="Not active", status=INACTIVE, capabilities=("translate",)
            ),
        )
        query = find(
            "",
            any_of("capability", "translate"),
            any_of("binding", "GRPC", "HTTP+JSON"),
            ACTIVE_ONLY,
        )
        assert await found(records, query) == ["Wanted"]

    async def test_a_term_no_agent_has_matches_nothing(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(records, make_listed_agent(1, alice.id))
        page = await records.search_agents(find("", any_of("capability", "teleport")), limit=10)
        assert (page.agents, page.total, page.total_exact, page.next_after) == ([], 0, True, None)

    async def test_term_values_in_any_script_match_exactly(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Japanese", tags=("日本語", "翻訳")),
            make_listed_agent(2, alice.id, name="Accented", tags=("café",)),
            make_listed_agent(3, alice.id, name="Plain", tags=("cafe",)),
        )
        assert await found(records, find("", any_of("tag", "翻訳"))) == ["Japanese"]
        assert await found(records, find("", any_of("tag", "café"))) == ["Accented"]

    # --------------------------------------------------------------- statuses

    async def test_without_a_status_group_every_status_but_deleted_matches(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number, status in enumerate(("active", INACTIVE, DEPRECATED, DELETED), start=1):
            await add(records, make_listed_agent(number, alice.id, name=status, status=status))
        assert await found(records, DiscoveryQuery()) == ["active", "deprecated", "inactive"]
        assert await found(records, find("agent")) == ["active", "deprecated", "inactive"]

    async def test_a_status_group_keeps_its_statuses_only(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number, status in enumerate(("active", INACTIVE, DEPRECATED), start=1):
            await add(records, make_listed_agent(number, alice.id, name=status, status=status))
        assert await found(records, find("", ACTIVE_ONLY)) == ["active"]
        either = any_of("status", INACTIVE, DEPRECATED)
        assert await found(records, find("", either)) == ["deprecated", "inactive"]

    async def test_deleted_agents_are_never_found_even_by_status(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, status=DELETED, capabilities=("translate",)),
        )
        for query in (
            find("", any_of("status", DELETED)),
            find("translate", any_of("status", DELETED, "active")),
            find("", any_of("capability", "translate")),
            DiscoveryQuery(),
        ):
            page = await records.search_agents(query, limit=10)
            assert (page.agents, page.total) == ([], 0), query

    # ------------------------------------------------------------------ words

    async def test_a_word_matches_in_the_name_keywords_or_description(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Quokka Scout"),
            make_listed_agent(2, alice.id, name="By capability", capabilities=("quokka",)),
            make_listed_agent(3, alice.id, name="By tag", tags=("quokka",)),
            make_listed_agent(
                4, alice.id, name="By skill name", card={"skill_names": ["Quokka Spotting"]}
            ),
            make_listed_agent(5, alice.id, name="By skill id", card={"skill_ids": ["quokka"]}),
            make_listed_agent(6, alice.id, name="By skill tag", card={"skill_tags": ["quokka"]}),
            make_listed_agent(7, alice.id, name="By description", description="Finds a quokka."),
            make_listed_agent(8, alice.id, name="Unrelated", description="Finds a wombat."),
        )
        assert await found(records, find("quokka")) == [
            "By capability",
            "By description",
            "By skill id",
            "By skill name",
            "By skill tag",
            "By tag",
            "Quokka Scout",
        ]

    async def test_every_word_must_match_in_some_field(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Scout", description="Finds quokka burrows."),
            make_listed_agent(2, alice.id, name="Keeper", description="Feeds a wombat."),
            make_listed_agent(
                3, alice.id, name="Ranger", capabilities=("quokka",), description="Feeds a wombat."
            ),
        )
        assert await found(records, find("quokka wombat")) == ["Ranger"]
        assert await found(records, find("wombat")) == ["Keeper", "Ranger"]

    @pytest.mark.parametrize(
        ("stored", "searched"),
        [
            ("Translates letters.", "translation"),
            ("Offers translation.", "translate"),
            ("Reconciles invoices.", "invoice"),
            ("Books a flight.", "booking"),
        ],
    )
    async def test_words_match_their_stemmed_forms(
        self, records: RecordsBackend, alice: UserRecord, stored: str, searched: str
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Stemmed", description=stored),
            make_listed_agent(2, alice.id, name="Other", description="Answers questions."),
        )
        assert await found(records, find(searched)) == ["Stemmed"]

    async def test_words_and_filters_combine(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Wanted", description="Translates letters."),
            make_listed_agent(
                2, alice.id, name="Inactive", status=INACTIVE, description="Translates letters."
            ),
            make_listed_agent(3, alice.id, name="Unrelated"),
        )
        assert await found(records, find("translation", ACTIVE_ONLY)) == ["Wanted"]

    async def test_stop_words_in_the_text_do_not_stop_a_match(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="The Quokka of Them All"),
            make_listed_agent(2, alice.id, name="Other"),
        )
        assert await found(records, find("all of the quokkas")) == ["The Quokka of Them All"]

    async def test_a_word_no_agent_has_matches_nothing(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(records, make_listed_agent(1, alice.id), make_listed_agent(2, alice.id))
        for sort in ("created_at", "relevance", "name"):
            page = await records.search_agents(find("zyzzyva", sort=sort), limit=10)
            assert (page.agents, page.total, page.total_exact) == ([], 0, True)
            assert (page.next_after, dict(page.scores)) == (None, {})

    async def test_words_match_whatever_their_case_width_or_ligatures(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Ledger", description="Finance for a café."),
            make_listed_agent(2, alice.id, name="Other"),
        )
        full_width = "\uff26\uff49\uff4e\uff41\uff4e\uff43\uff45"
        for text in ("FINANCE", full_width, "\ufb01nance", "CAFÉ"):
            assert await found(records, find(text)) == ["Ledger"], text

    @pytest.mark.parametrize("text", list(ODD_TEXTS.values()), ids=list(ODD_TEXTS))
    async def test_odd_unicode_words_match_nothing_and_never_raise(
        self, records: RecordsBackend, alice: UserRecord, text: str
    ) -> None:
        await add(
            records,
            make_listed_agent(
                1, alice.id, name="Plain Helper", description="Answers questions politely."
            ),
        )
        for sort in ("relevance", "created_at", "name"):
            page = await records.search_agents(find(text, sort=sort), limit=10)
            assert (page.agents, page.total) == ([], 0), sort
        counts = await records.count_terms(find(text), kind="capability")
        assert (dict(counts.counts), counts.exact) == ({}, True)
