"""Synthetic agents for the discovery benchmark: deterministic, and skewed like a real registry.

``Corpus(n, seed=...)`` yields ``n`` :class:`AgentRecord` s, oldest first, the same ones for
the same seed and ``n`` (only the timestamps move: they span the year before ``end``):

- **words**: names and descriptions draw from a vocabulary of 4,000 words with Zipf
  frequencies (a head of ordinary registry words, then a tail of made-up ones); most names
  also carry a brand word from a far longer Zipf tail, which is where rare words come from
  (at any scale some brands are used by only a handful of agents);
- **capabilities**: 2,000 ``verb-noun`` names (their words are vocabulary words, so they count
  as text too), Zipf-distributed, 1-6 per agent; tags from a few dozen domains; agent types,
  40 developers, pricing with a currency on about a third; 90% active;
- **A2A cards**: one A2A 1.0 card per agent in the normalized shape (supportedInterfaces with
  JSONRPC / HTTP+JSON / GRPC in skewed shares, streaming on ~40%, push notifications on
  ~20%, default and per-skill media types, the five security scheme variants, extensions on
  some). The record keeps what search reads of it, ``extract_search_fields(card)``, as
  ``card_summary``, and the SHA-256 of its canonical JSON as ``card_hash``. The cards
  themselves are not written to the blob store (``card_blob_key`` is None): at a million
  agents that would measure the blob store, not search, and the registry derives a card for
  a record without one.

While it generates, the corpus counts in how many active agents each word, capability and
streaming binding occurs, so :meth:`Corpus.query_terms` picks each query class's terms from
the data actually generated instead of guessing. The word counts are what a search matches:
no two vocabulary words share a stem (checked with SQLite's porter tokenizer when the
vocabulary is built) and none is a stop word.

    python bench/discovery_corpus.py [--agents 100000]   # generation speed and the terms
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from agentvault_registry.a2a.derive import A2A_PROTOCOL_VERSION, extract_search_fields
from agentvault_registry.plugins.agents.cards import canonical_json
from agentvault_registry.plugins.agents.service import slugify
from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.agents import (
    ACTIVE,
    DEPRECATED,
    DID_PREFIX,
    INACTIVE,
    AgentRecord,
)
from agentvault_registry.storage_backends.discovery import STOP_WORDS, SortKey


class Weighted:
    """Values drawn with given weights; the cumulative weights are summed once."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [value for value, _ in pairs]
        self.cumulative = list(itertools.accumulate(weight for _, weight in pairs))

    @classmethod
    def zipf(cls, values: Sequence[Any], exponent: float = 1.0) -> Weighted:
        """``values`` in rank order, the one of rank r weighing 1 / r ** exponent."""
        return cls([(value, 1 / rank**exponent) for rank, value in enumerate(values, 1)])

    def draw(self, rng: random.Random, count: int) -> list[Any]:
        return rng.choices(self.values, cum_weights=self.cumulative, k=count)

    def one(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cumulative)[0]

    def distinct(self, rng: random.Random, count: int) -> list[Any]:
        """Up to ``count`` draws, repeats dropped."""
        return list(dict.fromkeys(self.draw(rng, count)))


VOCABULARY_SIZE = 4_000
#: Brand ranks drawn log-uniformly (Zipf, exponent 1) between these: the most used brand is
#: in ~0.14% of the agents, and even a million agents leave thousands of brands in < 20.
BRAND_RANKS = (50, 1_000_000)
BRAND_SHARE = 0.7
CAPABILITY_COUNT = 2_000
DEVELOPER_COUNT = 40
#: How far down the newest-first list of active agents the deep cursor pages start.
DEEP_PAGE_DEPTH = 50_000
#: How many terms of each class the benchmark rotates through.
TERMS_PER_CLASS = 5

#: The vocabulary's head, most frequent first: words a registry of agents is written in.
#: The verbs and nouns make the capabilities; the domains are the tags.
GENERAL_WORDS = """data ai customer text automated search fast team document workflow
    business knowledge platform tool realtime cloud enterprise user content language model
    chat question insight web file task pipeline integration personal daily global instant
    multilingual accurate reliable scalable tailored structured batch webhook dashboard metric
    context memory voice system process result source response request event account project
    note calendar spreadsheet pdf conversation summary trend risk fraud price stock portfolio
    private local open simple smart expert domain quality growth operations developer creative
    visual semantic predictive interactive autonomous lightweight modular hosted managed
    privacy cost speed accuracy coverage feedback sentiment entity keyword topic intent profile
    lifecycle onboarding checkout catalog campaign audience inbox thread channel community
    forum wiki handbook manual guide tutorial course exam quiz student teacher clinic patient
    doctor lawyer notary broker investor vendor supplier warehouse fleet vehicle sensor
    device robot drone satellite map location address city country region currency wallet
    token ledger block chain bridge gateway proxy cache queue"""
DOMAINS = """finance legal healthcare retail education marketing sales security devops travel
    logistics insurance recruiting energy media gaming government manufacturing telecom
    agriculture research support compliance analytics ecommerce banking crypto science pharma
    automotive hospitality nonprofit sports music fashion food construction aviation"""
VERBS = """translate summarize extract classify generate analyze search monitor schedule review
    detect recommend convert validate transcribe forecast optimize route enrich index match
    moderate draft audit label cluster rank parse verify resolve plan book track notify sync
    scrape tag score compare answer"""
NOUNS = """text document invoice email image code contract ticket report transcript receipt
    resume article message meeting order payment claim lead product listing photo video audio
    speech dataset table chart log alert incident sql schema api repository commit bug release
    policy form survey lesson recipe trip flight hotel weather news patent shipment"""
NAME_SUFFIXES = ("agent", "assistant", "bot", "copilot", "service", "helper", "hub", "desk")
#: Joined between drawn words so descriptions read like text; queries drop them.
FILLERS = ("for", "and", "with", "the", "to", "of", "in", "your", "from", "by", "that")
FILLER_SHARE = 0.3

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
#: Made-up words end in a letter no porter/snowball suffix rule strips: each is its own stem.
FINALS = "kpbxzv"

AGENT_TYPES = Weighted(
    [
        ("a2a", 50),
        ("assistant", 20),
        ("tool", 12),
        ("workflow", 8),
        ("data", 6),
        ("orchestrator", 4),
    ]
)
STATUSES = Weighted([(ACTIVE, 90), (INACTIVE, 6), (DEPRECATED, 4)])
CAPABILITIES_PER_AGENT = Weighted([(1, 30), (2, 28), (3, 20), (4, 12), (5, 6), (6, 4)])
TAGS_PER_AGENT = Weighted([(0, 25), (1, 40), (2, 25), (3, 10)])
NAME_WORDS = Weighted([(1, 40), (2, 40), (3, 20)])
PRIMARY_BINDINGS = Weighted([("JSONRPC", 62), ("HTTP+JSON", 26), ("GRPC", 12)])
BINDING_PATHS = {"JSONRPC": "/a2a/jsonrpc", "HTTP+JSON": "/a2a/v1", "GRPC": ""}
SECOND_INTERFACE_SHARE = 0.25
STREAMING_SHARE = 0.4
PUSH_NOTIFICATIONS_SHARE = 0.2
MEDIA_TYPES = Weighted(
    [
        ("text/plain", 40),
        ("application/json", 25),
        ("text/markdown", 8),
        ("image/png", 6),
        ("application/pdf", 6),
        ("image/jpeg", 5),
        ("audio/wav", 4),
        ("text/csv", 3),
        ("audio/mpeg", 2),
        ("video/mp4", 1),
    ]
)
MODES_PER_LIST = Weighted([(1, 50), (2, 35), (3, 15)])
PER_SKILL_MODES_SHARE = 0.3
SCHEMES_PER_AGENT = Weighted([(0, 20), (1, 65), (2, 15)])
#: One scheme of each A2A 1.0 variant, by the name a card gives it.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"}},
    "api_key": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}},
    "oauth": {
        "oauth2SecurityScheme": {
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "https://auth.bench.example/oauth/token",
                    "scopes": {"agent:invoke": "Call the agent"},
                }
            }
        }
    },
    "oidc": {
        "openIdConnectSecurityScheme": {
            "openIdConnectUrl": "https://auth.bench.example/.well-known/openid-configuration"
        }
    },
    "mtls": {"mtlsSecurityScheme": {"description": "Operator-issued client certificate"}},
}
SCHEME_NAMES = Weighted([("bearer", 38), ("api_key", 32), ("oauth", 16), ("oidc", 9), ("mtls", 5)])
EXTENSION_SHARE = 0.12
EXTENSION_URIS = Weighted.zipf(
    [
        f"https://a2a.bench.example/ext/{name}/v1"
        for name in ("traceability", "timestamps", "citations", "payments", "secure-passport")
    ]
)
PRICING_SHARE = 0.35
PRICING_MODELS = Weighted([("per_call", 40), ("subscription", 30), ("usage", 20), ("free", 10)])
CURRENCIES = Weighted([("USD", 55), ("EUR", 20), ("GBP", 8), ("USDC", 7), ("JPY", 5), ("CHF", 5)])
PRICES = ("0.001", "0.01", "0.05", "0.10", "1.00", "9.99", "29.00", "99.00")
VERIFIED_SHARE = 0.12


# ------------------------------------------------------------------ words


def made_up_word(number: int, syllables: int) -> str:
    """The ``number``-th word of ``syllables`` consonant-vowel pairs and a final consonant."""
    number, final = divmod(number, len(FINALS))
    letters = []
    for _ in range(syllables):
        number, vowel = divmod(number, len(VOWELS))
        number, consonant = divmod(number, len(CONSONANTS))
        letters += [CONSONANTS[consonant], VOWELS[vowel]]
    return "".join(letters) + FINALS[final]


def made_up_words(syllables: int) -> Iterator[str]:
    """Every word of ``syllables`` syllables once, neighbours scattered (a multiplication by a
    prime modulo the count is a bijection) so consecutive words start differently."""
    space = (len(CONSONANTS) * len(VOWELS)) ** syllables * len(FINALS)
    for rank in range(space):
        yield made_up_word(rank * 1_000_003 % space, syllables)


def brand_word(rank: int) -> str:
    # Three syllables: brands never coincide with the two-syllable made-up vocabulary words.
    space = (len(CONSONANTS) * len(VOWELS)) ** 3 * len(FINALS)
    return made_up_word(rank * 1_000_003 % space, 3)


def vocabulary() -> tuple[str, ...]:
    head = dict.fromkeys(
        [*" ".join((GENERAL_WORDS, DOMAINS, VERBS, NOUNS)).split(), *NAME_SUFFIXES]
    )
    tail = (word for word in made_up_words(2) if word not in head)
    words = [*head, *itertools.islice(tail, VOCABULARY_SIZE - len(head))]
    check_one_stem_each(words)
    return tuple(words)


def check_one_stem_each(words: Sequence[str]) -> None:
    """Fail when two words share a stem or one is a stop word: their counts would not be what
    a search for them matches. SQLite FTS5's porter tokenizer, the registry's, gives the stems."""
    stop_words = sorted(set(words) & STOP_WORDS)
    if stop_words:
        raise ValueError(f"stop words in the vocabulary: {stop_words}")
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE VIRTUAL TABLE words USING fts5(word, tokenize='porter unicode61')")
        conn.execute("CREATE VIRTUAL TABLE stems USING fts5vocab(words, 'instance')")
        conn.executemany("INSERT INTO words (rowid, word) VALUES (?, ?)", enumerate(words))
        shared = conn.execute(
            "SELECT group_concat(doc) FROM stems GROUP BY term HAVING count(*) > 1"
        ).fetchall()
    if shared:
        collisions = [[words[int(doc)] for doc in docs.split(",")] for (docs,) in shared]
        raise ValueError(f"vocabulary words sharing a stem: {collisions}")


# ------------------------------------------------------------------ terms


@dataclasses.dataclass(frozen=True)
class QueryTerms:
    """What each query class of the benchmark searches for, picked from the generated data;
    up to ``TERMS_PER_CLASS`` of each, so repeated rounds do not hit one cached plan or page."""

    agents: int
    #: Words around the 5th most frequent.
    common_words: tuple[str, ...]
    #: Words in 0.5-1% of the agents.
    medium_words: tuple[str, ...]
    #: Words in 5-19 agents: brands (in small corpora, made-up vocabulary words too).
    rare_words: tuple[str, ...]
    #: The most used capabilities.
    common_capabilities: tuple[str, ...]
    #: Bindings to filter on together with ``streaming=true``, most used first.
    a2a_bindings: tuple[str, ...]
    #: Keyset positions ~``DEEP_PAGE_DEPTH`` rows down the newest-first active agents.
    deep_keys: tuple[SortKey, ...]
    #: In how many agents each chosen term occurs (``word:x``, ``capability:x``,
    #: ``a2a:BINDING+streaming``), for the report.
    documents: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["deep_keys"] = [
            [created.isoformat(), agent_id] for created, agent_id in self.deep_keys
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueryTerms:
        fields = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
        }
        fields["deep_keys"] = tuple(
            (dt.datetime.fromisoformat(created), agent_id)
            for created, agent_id in data["deep_keys"]
        )
        return cls(**fields)


def evenly(items: Sequence[Any], count: int) -> list[Any]:
    """``count`` items spread over ``items`` (all of them when there are fewer)."""
    if len(items) <= count:
        return list(items)
    return [items[int(index * len(items) / count)] for index in range(count)]


@dataclasses.dataclass
class Tally:
    """In how many active agents each word, capability and streaming binding occurs: every
    query class asks for active agents, so these are the totals a search must find."""

    words: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    capabilities: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    streaming_bindings: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    #: The newest active agents' sort keys, oldest first, as far down as the deep pages go.
    newest_active: collections.deque[SortKey] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=DEEP_PAGE_DEPTH + 1_000 * TERMS_PER_CLASS)
    )

    def query_terms(self, agents: int) -> QueryTerms:
        by_frequency = [word for word, _ in self.words.most_common()]
        medium = [
            word for word in by_frequency if 0.005 * agents <= self.words[word] <= 0.01 * agents
        ]
        rare = [word for word, count in self.words.items() if 5 <= count < 20]
        capabilities = [name for name, _ in self.capabilities.most_common(TERMS_PER_CLASS)]
        bindings = [binding for binding, _ in self.streaming_bindings.most_common()]
        # Newest first: the agent at DEEP_PAGE_DEPTH, then every 1,000 further down.
        newest_first = list(reversed(self.newest_active))
        depths = range(min(DEEP_PAGE_DEPTH, len(newest_first) // 2), len(newest_first), 1_000)
        terms = QueryTerms(
            agents=agents,
            common_words=tuple(by_frequency[2 : 2 + TERMS_PER_CLASS]),
            medium_words=tuple(evenly(medium, TERMS_PER_CLASS)),
            rare_words=tuple(evenly(rare, TERMS_PER_CLASS)),
            common_capabilities=tuple(capabilities),
            a2a_bindings=tuple(bindings),
            deep_keys=tuple(newest_first[depth] for depth in depths[:TERMS_PER_CLASS]),
            documents={},
        )
        terms.documents.update(self._documents(terms))
        return terms

    def _documents(self, terms: QueryTerms) -> dict[str, int]:
        words = [*terms.common_words, *terms.medium_words, *terms.rare_words]
        documents = {f"word:{word}": self.words[word] for word in words}
        documents |= {
            f"capability:{name}": self.capabilities[name] for name in terms.common_capabilities
        }
        documents |= {
            f"a2a:{binding}+streaming": self.streaming_bindings[binding]
            for binding in terms.a2a_bindings
        }
        return documents


# ----------------------------------------------------------------- corpus


@dataclasses.dataclass(frozen=True, eq=False)  # one object per capability: identity is enough
class Capability:
    name: str
    #: Its verb and noun, which search sees as words of the agent's text.
    words: tuple[str, str]
    #: Its skill in a card; shared by every card that lists the capability.
    skill: dict[str, Any]


class Corpus:
    """``agents`` synthetic agents for ``seed``, created over the year before ``end`` (by
    default today's midnight UTC)."""

    def __init__(self, agents: int, *, seed: int = 2026, end: dt.datetime | None = None) -> None:
        self.count = agents
        self.end = end or dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = self.end - dt.timedelta(days=365)
        self.rng = random.Random(seed)
        self.words = Weighted.zipf(vocabulary())
        self.capabilities = Weighted.zipf(self._capabilities())
        self.tags = Weighted.zipf(DOMAINS.split())
        self.developer_ids = [str(self._uuid()) for _ in range(DEVELOPER_COUNT)]
        self.developers = Weighted.zipf(self.developer_ids, 1.1)
        self.tally = Tally()

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _capabilities(self) -> list[Capability]:
        pairs = list(itertools.product(VERBS.split(), NOUNS.split()))
        self.rng.shuffle(pairs)  # so the most used capabilities are not all one verb's
        return [self._capability(verb, noun) for verb, noun in pairs[:CAPABILITY_COUNT]]

    def _capability(self, verb: str, noun: str) -> Capability:
        skill: dict[str, Any] = {
            "id": f"{verb}-{noun}",
            "name": f"{verb.capitalize()} {noun}",
            "description": f"Give it a {noun} to {verb}; it answers with the result.",
            "tags": [verb, noun],
        }
        if self.rng.random() < PER_SKILL_MODES_SHARE:
            skill["inputModes"] = self._modes()
            skill["outputModes"] = self._modes()
        return Capability(skill["id"], (verb, noun), skill)

    def _modes(self) -> list[str]:
        return MEDIA_TYPES.distinct(self.rng, MODES_PER_LIST.one(self.rng))

    def developer_users(self) -> list[UserRecord]:
        """The developers owning the agents: users that must exist before the agents."""
        return [
            UserRecord(
                id=developer_id,
                email=f"developer{number}@bench.example",
                username=f"bench-developer-{number}",
                password_hash="!",  # matches no password: these accounts never log in
                role="developer",
                is_active=True,
                is_verified=True,
                created_at=self.start,
                updated_at=self.start,
            )
            for number, developer_id in enumerate(self.developer_ids)
        ]

    def records(self) -> Iterator[AgentRecord]:
        """The agents, oldest first, tallied as they are made."""
        step = (self.end - self.start) / max(self.count, 1)
        for number in range(self.count):
            yield self._agent(number, self.start + step * number)

    def query_terms(self) -> QueryTerms:
        """Each query class's terms; call after :meth:`records` has run to the end."""
        return self.tally.query_terms(self.count)

    # --------------------------------------------------------------- one agent

    def _agent(self, number: int, created_at: dt.datetime) -> AgentRecord:
        rng = self.rng
        agent_id = str(self._uuid())
        name, name_words = self._name()
        description, description_words = self._description()
        capabilities = self.capabilities.distinct(rng, CAPABILITIES_PER_AGENT.one(rng))
        tags = self.tags.distinct(rng, TAGS_PER_AGENT.one(rng))
        card = self._card(number, name, description, capabilities)
        summary = extract_search_fields(card)
        status = STATUSES.one(rng)
        verified = rng.random() < VERIFIED_SHARE
        self._tally(
            agent_id,
            created_at,
            status,
            [*name_words, *description_words, *tags],
            capabilities,
            summary,
        )
        return AgentRecord(
            id=agent_id,
            did=DID_PREFIX + agent_id,
            name=name,
            agent_type=AGENT_TYPES.one(rng),
            status=status,
            description=description,
            developer_id=self.developers.one(rng),
            # A serial keeps slugs unique; the service's id prefix would collide at a million.
            human_readable_id=f"{slugify(name)}-{number}",
            created_at=created_at,
            updated_at=created_at,
            api_endpoints=tuple(item["url"] for item in card["supportedInterfaces"]),
            capabilities=tuple(capability.name for capability in capabilities),
            tags=tuple(tags),
            pricing=self._pricing(),
            verified=verified,
            verified_at=created_at if verified else None,
            card_hash=hashlib.sha256(canonical_json(card)).hexdigest(),
            card_summary=summary,
        )

    def _name(self) -> tuple[str, list[str]]:
        """A name of vocabulary words and a suffix, most led by a brand; and its words."""
        words = self.words.draw(self.rng, NAME_WORDS.one(self.rng))
        words.append(self.rng.choice(NAME_SUFFIXES))
        if self.rng.random() < BRAND_SHARE:
            low, high = BRAND_RANKS
            words.insert(0, brand_word(int(low * (high / low) ** self.rng.random())))
        return " ".join(word.capitalize() for word in words), words

    def _description(self) -> tuple[str, list[str]]:
        words = self.words.draw(self.rng, self.rng.randint(10, 25))
        parts = []
        for position, word in enumerate(words):
            if position and self.rng.random() < FILLER_SHARE:
                parts.append(self.rng.choice(FILLERS))
            parts.append(word)
        return " ".join(parts).capitalize() + ".", words

    def _card(
        self, number: int, name: str, description: str, capabilities: list[Capability]
    ) -> dict[str, Any]:
        rng = self.rng
        host = f"https://agent{number}.bench.example"
        flags: dict[str, Any] = {
            "streaming": rng.random() < STREAMING_SHARE,
            "pushNotifications": rng.random() < PUSH_NOTIFICATIONS_SHARE,
        }
        if rng.random() < EXTENSION_SHARE:
            uris = EXTENSION_URIS.distinct(rng, rng.randint(1, 2))
            flags["extensions"] = [{"uri": uri, "required": False} for uri in uris]
        schemes = SCHEME_NAMES.distinct(rng, SCHEMES_PER_AGENT.one(rng))
        card: dict[str, Any] = {
            "name": name,
            "description": description,
            "supportedInterfaces": [
                {
                    "url": host + BINDING_PATHS[binding],
                    "protocolBinding": binding,
                    "protocolVersion": A2A_PROTOCOL_VERSION,
                }
                for binding in self._bindings()
            ],
            "provider": {
                "organization": f"Bench Developer {number % DEVELOPER_COUNT}",
                "url": host,
            },
            "version": f"1.{number % 7}.{number % 13}",
            "capabilities": flags,
            "defaultInputModes": self._modes(),
            "defaultOutputModes": self._modes(),
            "skills": [capability.skill for capability in capabilities],
        }
        if schemes:
            card["securitySchemes"] = {name: SECURITY_SCHEMES[name] for name in schemes}
            card["securityRequirements"] = [{"schemes": {name: {"list": []}}} for name in schemes]
        return card

    def _bindings(self) -> list[str]:
        bindings = [PRIMARY_BINDINGS.one(self.rng)]
        if self.rng.random() < SECOND_INTERFACE_SHARE:
            bindings.append(self.rng.choice([b for b in BINDING_PATHS if b != bindings[0]]))
        return bindings

    def _pricing(self) -> dict[str, str] | None:
        if self.rng.random() >= PRICING_SHARE:
            return None
        model = PRICING_MODELS.one(self.rng)
        if model == "free":
            return {"model": model}
        return {
            "model": model,
            "base_price": self.rng.choice(PRICES),
            "currency": CURRENCIES.one(self.rng),
        }

    def _tally(
        self,
        agent_id: str,
        created_at: dt.datetime,
        status: str,
        words: list[str],
        capabilities: list[Capability],
        summary: dict[str, Any],
    ) -> None:
        if status != ACTIVE:
            return
        for capability in capabilities:
            words.extend(capability.words)
        self.tally.words.update(set(words))
        self.tally.capabilities.update(capability.name for capability in capabilities)
        if summary["streaming"]:
            self.tally.streaming_bindings.update(summary["bindings"])
        self.tally.newest_active.append((created_at, agent_id))


# ------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    started = time.perf_counter()
    corpus = Corpus(args.agents, seed=args.seed)
    for _ in corpus.records():
        pass
    seconds = time.perf_counter() - started
    print(f"generated {args.agents:,} agents in {seconds:.1f} s: {args.agents / seconds:,.0f}/s")
    print(json.dumps(corpus.query_terms().as_json(), indent=2))


if __name__ == "__main__":
    main()
