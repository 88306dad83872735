"""Parser fuzzing (F11 item 5): structured inputs for each parser, and the property they share.

Every input either parses or raises the error the parser documents for bad input:

- ``card``: :func:`normalize_card` (the validator, the v0.2/v0.3 upgrader and the schema) on
  mutated real cards; an accepted card must then survive what the agents plugin does with it
  (canonical JSON, search fields, the v0.3 rendering). Refusal is :class:`CardRefused` (422);
  the v0.3 rendering of a card that has none is :class:`NotFound` (404).
- ``query``: the discovery query strings (``GET /discovery/agents``, ``/capabilities``) and
  JSON bodies (``POST /discovery/search``) loaded as the views load them, then turned into
  what the backends receive (words, term groups, the FTS5 text, the cursor). Refusal is a
  4xx :class:`RegistryError` (422 ``ValidationFailed``, 400 for a foreign cursor).
- ``config``: :func:`load_configuration` on a TOML file, ``AVREG_*`` variables and command
  line overrides together. Refusal is :class:`ConfigError`.

One strategy per target serves three drivers: the CI-bounded test
(tests/reliability/test_parser_fuzz.py), hypothesis with many examples, and atheris, which
feeds its coverage-guided bytes to the same strategies through hypothesis'
``fuzz_one_input`` (bench/fuzz_parsers.py).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentvault_registry.a2a import CardRefused, extract_search_fields, normalize_card
from agentvault_registry.a2a.downgrade import downgrade_to_v03
from agentvault_registry.config.loader import load_configuration
from agentvault_registry.core.errors import ConfigError, NotFound, RegistryError
from agentvault_registry.core.requests import load_valid
from agentvault_registry.plugins.agents.cards import canonical_json
from agentvault_registry.plugins.discovery import schemas as discovery
from agentvault_registry.plugins.discovery.cursors import cursor_order, decode_cursor
from agentvault_registry.storage_backends.discovery import SORTS, plain_words
from agentvault_registry.storage_backends.sqlite_discovery_plan import fts_query
from sample_cards import V03_CARD, V1_CARD

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "a2a-cards"


# ------------------------------------------------------------------------ awkward values

#: Text a parser meets in the wild and in attacks: NUL and control characters, lone
#: surrogates (legal JSON escapes, no legal text), right-to-left marks, compatibility forms
#: NFKC folds, and JSON/TOML/FTS syntax characters.
AWKWARD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "x\udfffy",
        "\u202eevil",
        "\ufeff",
        "ﬁ①Ⅻ",
        "\U0001d518\U0001d52b",  # mathematical Fraktur letters, which NFKC folds
        "\r\n\t",
        '"',
        "\\",
        "NEAR(a b)",
        '*"-:^()',
        "javascript:alert(1)",
        "https://",
        "http://[::1",
        "file:///etc/passwd",
        "1e400",
        "NaN",
        "0.3.0",
        "JSONRPC",
        "avk_" + "x" * 43,
    ]
)
TEXT = st.text(max_size=40) | AWKWARD_TEXT
NUMBERS = (
    st.integers()
    | st.sampled_from([0, -1, 2**63, -(2**63) - 1, 10**400])
    | st.floats(allow_nan=True, allow_infinity=True)
)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def deeply_nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _huge(kind: int) -> Any:
    """Values that stress limits rather than types: over-long text, long lists, nesting
    deep enough for any recursive walk to notice and shallow enough to copy."""
    values = ("x" * 300_000, "é" * 70_000, ["tag"] * 5_000, deeply_nested(40), deeply_nested(300))
    return values[kind]


def _deep_text(kind: int) -> str:
    """JSON text nesting far deeper than any recursion limit."""
    return ("[" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000)[kind]


# Built from an index, so the strategy's repr (which hypothesis renders) stays short.
HUGE = st.integers(0, 4).map(_huge)
DEEP_TEXT = st.integers(0, 1).map(_deep_text)
WEIRD = JSON_LIKE | HUGE


# ------------------------------------------------------------------------------- cards


def corpus_cards() -> list[Any]:
    """The shared corpus' documents as published (some are not even objects)."""
    if not CORPUS.is_dir():
        return []
    documents = []
    for path in sorted(CORPUS.rglob("*.json")):
        try:
            documents.append(json.loads(path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue  # the invalid-format sample: its bytes are fuzzed as text instead
    return documents


SEED_CARDS: list[Any] = [V1_CARD, V03_CARD, *corpus_cards()]
#: Field names the normalizer knows, to rename into and to add: fuzzing them reaches the
#: upgrade and respelling paths that random names never do.
CARD_FIELD_NAMES = st.sampled_from(
    [
        "name",
        "description",
        "url",
        "preferredTransport",
        "protocolVersion",
        "additionalInterfaces",
        "supportedInterfaces",
        "transport",
        "protocolBinding",
        "capabilities",
        "streaming",
        "pushNotifications",
        "extendedAgentCard",
        "supportsAuthenticatedExtendedCard",
        "supportsExtendedAgentCard",
        "stateTransitionHistory",
        "skills",
        "id",
        "tags",
        "examples",
        "inputModes",
        "outputModes",
        "defaultInputModes",
        "defaultOutputModes",
        "security",
        "securityRequirements",
        "securitySchemes",
        "type",
        "scheme",
        "flows",
        "in",
        "signatures",
        "extensions",
        "provider",
        "iconUrl",
        "documentationUrl",
        "version",
        "default_input_modes",
        "api_endpoint",
    ]
)


def _paths(document: Any, prefix: tuple = ()) -> list[tuple]:
    """Every container path of ``document``, the root first."""
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(value, dict | list):
                found += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            if isinstance(value, dict | list):
                found += _paths(value, (*prefix, index))
    return found


def _at(document: Any, path: tuple) -> Any:
    for step in path:
        document = document[step]
    return document


@dataclass(frozen=True)
class Mutation:
    #: Which container (index into the document's paths, modulo their count).
    where: int
    #: What to do there: replace a member, delete one, add one, rename one, or wrap the
    #: container in another level.
    action: str
    #: Which member (index modulo the container's size).
    which: int
    name: str
    value: Any


MUTATIONS = st.builds(
    Mutation,
    where=st.integers(0, 10_000),
    action=st.sampled_from(["replace", "delete", "add", "rename", "wrap"]),
    which=st.integers(0, 10_000),
    name=CARD_FIELD_NAMES | TEXT,
    value=WEIRD | st.sampled_from([V1_CARD, V03_CARD]),
)


def mutate(document: Any, mutation: Mutation) -> Any:
    """``document`` (copied) with ``mutation`` applied; the root may be replaced."""
    document = copy.deepcopy(document)
    paths = _paths(document)
    path = paths[mutation.where % len(paths)]
    target = _at(document, path)
    if mutation.action == "wrap":
        wrapped = [target] if mutation.which % 2 else {mutation.name: target}
        if not path:
            return wrapped
        _at(document, path[:-1])[path[-1]] = wrapped
        return document
    if isinstance(target, dict):
        keys = list(target)
        key = keys[mutation.which % len(keys)] if keys else mutation.name
        if mutation.action == "delete":
            target.pop(key, None)
        elif mutation.action == "rename" and key in target:
            target[mutation.name] = target.pop(key)
        elif mutation.action == "add":
            target[mutation.name] = mutation.value
        else:
            target[key] = mutation.value
    elif isinstance(target, list):
        index = mutation.which % len(target) if target else 0
        if mutation.action == "delete" and target:
            del target[index]
        elif mutation.action in ("add", "rename") or not target:
            target.insert(index, mutation.value)
        else:
            target[index] = mutation.value
    else:
        return mutation.value
    return document


def _mutated(seed: Any, mutations: list[Mutation]) -> Any:
    for mutation in mutations:
        seed = mutate(seed, mutation)
    return seed


SEEDS = st.integers(0, len(SEED_CARDS) - 1).map(SEED_CARDS.__getitem__)
MUTATED_CARDS = st.builds(_mutated, SEEDS, st.lists(MUTATIONS, max_size=3))


def _as_text(document: Any, style: int) -> str | bytes:
    """The card as an HTTP body or a fetched card would be: JSON text in several forms,
    some of them broken."""
    try:
        text = json.dumps(document, ensure_ascii=style % 2 == 0)
    except ValueError:  # circular references are impossible here; only NaN-like numbers
        text = "{}"
    if style == 2:
        return "\ufeff" + text
    if style == 3:
        return text[: len(text) // 2]
    if style == 4:
        return text.encode("utf-16")
    if style == 5:
        return text.encode("utf-8", "surrogatepass")
    return text


CARD_DOCUMENTS = (
    MUTATED_CARDS
    | st.builds(_as_text, MUTATED_CARDS, st.integers(0, 5))
    | WEIRD
    | DEEP_TEXT
    | st.binary(max_size=200)
)


def check_card(document: Any) -> str:
    """The card property; what happened (``accepted``, ``refused``) for the statistics."""
    try:
        normalized = normalize_card(document)
    except CardRefused:
        return "refused"
    # What the agents plugin does with an accepted card, and the v0.3 rendering it serves.
    canonical_json(normalized.card)
    canonical_json(normalized.original)
    extract_search_fields(normalized.card)
    # A card that offers no pre-1.0 interface has no v0.3 form: a documented 404.
    with contextlib.suppress(NotFound):
        normalize_card(downgrade_to_v03(normalized.card))
    return "accepted"


# ------------------------------------------------------------------- discovery queries

QUERY_NAMES = sorted(
    {
        item.data_key or name
        for schema in (discovery.DiscoveryQuerySchema, discovery.CapabilitiesQuerySchema)
        for name, item in schema().fields.items()
    }
)
#: Values that mean something to the parsers: sort names, booleans, limits, separators.
QUERY_WORDS = st.sampled_from(
    [
        *SORTS,
        *("any", "all", "true", "false", "1", "0", "-1", "101", "10001", "99999999999"),
        *(",", ",,", " , ", "JSONRPC,grpc", "text/plain;charset=UTF-8", "oauth2", "USD"),
    ]
)
QUERY_VALUE = TEXT | QUERY_WORDS | st.integers().map(str)


def _cursor_text(payload: Any) -> str:
    text = json.dumps(payload, ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode().rstrip("=")


CURSORS = (
    st.builds(
        _cursor_text,
        st.lists(
            st.sampled_from([*SORTS, "relevance+verified", "name+streaming"])
            | JSON_LIKE
            | st.uuids().map(str)
            | st.datetimes().map(lambda value: value.isoformat()),
            max_size=4,
        ),
    )
    | TEXT
)
# Mostly the names the schemas read: an unknown name alone is refused before anything else.
QUERY_STRINGS = st.dictionaries(
    st.one_of(*[st.sampled_from(QUERY_NAMES)] * 4, TEXT),
    st.one_of(QUERY_WORDS, QUERY_WORDS, QUERY_VALUE, CURSORS),
    max_size=6,
)
PREFERENCE_NAMES = st.sampled_from(sorted(discovery.PREFERENCES))
FILTER_NAMES = st.sampled_from([*discovery.FILTERS, "capabilities"]) | TEXT
SEARCH_BODIES = (
    st.fixed_dictionaries(
        {},
        optional={
            "q": TEXT | WEIRD,
            "filters": st.dictionaries(
                FILTER_NAMES,
                st.lists(QUERY_VALUE, max_size=5)
                | st.fixed_dictionaries(
                    {}, optional={"any": st.lists(QUERY_VALUE), "all": st.lists(QUERY_VALUE)}
                )
                | WEIRD,
                max_size=5,
            )
            | WEIRD,
            "sort": QUERY_WORDS | WEIRD,
            "page": NUMBERS | WEIRD,
            "per_page": NUMBERS | WEIRD,
            "cursor": CURSORS | WEIRD,
            "fields": st.lists(st.sampled_from(discovery.RESULT_FIELDS) | TEXT, max_size=5) | WEIRD,
            "prefer": st.lists(st.sampled_from(sorted(discovery.PREFERENCES)) | TEXT, max_size=4)
            | WEIRD,
            "facets": st.booleans() | WEIRD,
            "explain": st.booleans() | WEIRD,
            "include_federated": st.booleans() | WEIRD,
        },
    )
    | WEIRD
)
QUERY_INPUTS = st.one_of(
    st.tuples(st.just("agents"), QUERY_STRINGS),
    st.tuples(st.just("capabilities"), QUERY_STRINGS),
    st.tuples(st.just("search"), SEARCH_BODIES),
)
QUERY_SCHEMAS = {
    "agents": discovery.DiscoveryQuerySchema(),
    "capabilities": discovery.CapabilitiesQuerySchema(),
    "search": discovery.SearchBodySchema(),
}


def check_query(query: tuple[str, Any]) -> str:
    """The discovery property: a search, or a 4xx the views answer with."""
    endpoint, data = query
    if endpoint != "search":
        # A query string is text: keys and values are str, as aiohttp hands them over.
        data = {str(key): str(value) for key, value in data.items()}
    try:
        loaded = load_valid(QUERY_SCHEMAS[endpoint], data)
        search = loaded[0] if endpoint == "capabilities" else loaded
        words = plain_words(search.text or "")
        fts_query(words)
        search.term_groups()
        search.remote_filters()
        if search.cursor is not None:
            decode_cursor(search.cursor, cursor_order(search.effective_sort, search.prefer))
    except RegistryError as error:
        if error.status >= 500:
            raise
        return f"refused {error.status}"
    return "accepted"


# ------------------------------------------------------------------------------ config

#: The sections and keys the core schema and the built-in plugins read, so generated
#: configurations reach the checks behind the first unknown-key refusal.
CONFIG_KEYS: dict[str, list[str]] = {
    "server": ["host", "port", "max_body_size", "public_url", "access_log", "trusted_proxies"],
    "registry": ["name", "description", "organization", "organization_url"],
    "security": ["jwt_secret", "jwt_keys", "jwt_issuer"],
    "storage": ["records", "cache", "blobs", "allow_embedded", "migrate_on_start"],
    "logging": ["level", "format", "levels"],
    "tracing": ["enabled", "service_name", "exporter", "sample_ratio"],
    "outbound": ["allow_private_targets", "allowed_private_networks", "connect_timeout"],
    "metrics": ["enabled", "allow_networks"],
    "cors": ["allow_origins", "allow_methods", "allow_credentials", "max_age"],
    "plugins": ["disabled", "auth", "discovery", "mail", "federation", "events", "webui"],
    "rate_limits": ["auth.login", "discovery.search", "auth"],
}
CONFIG_VALUES = WEIRD | st.sampled_from(
    [
        {"env": "AVREG_TEST_SECRET"},
        {"env": "MISSING"},
        {"env": 3},
        {"file": "/nonexistent/secret"},
        {"file": "/etc"},
        {"file": "/dev/null"},
        {"file": "a\x00b"},
        {"file": ["x"]},
        {"backend": "sqlite"},
        {"backend": "memory"},
        {"backend": "postgresql", "dsn": "postgresql://x@127.0.0.1:1/db"},
        {"backend": "redis", "url": "redis://127.0.0.1:1/0"},
        {"backend": "nope"},
        "10/minute",
        "0/second",
        "production",
        "development",
        "127.0.0.1/8",
        "::/0",
        "INFO",
    ]
)
CONFIG_SECTIONS = st.sampled_from(sorted(CONFIG_KEYS)).flatmap(
    lambda section: st.tuples(
        st.just(section),
        st.dictionaries(st.sampled_from(CONFIG_KEYS[section]) | TEXT, CONFIG_VALUES, max_size=4),
    )
)
CONFIG_LAYERS = st.lists(CONFIG_SECTIONS, max_size=4).map(dict) | st.dictionaries(
    TEXT, CONFIG_VALUES, max_size=3
)


def toml_value(value: Any) -> str:
    """``value`` in TOML's inline syntax (None, which TOML lacks, as an empty table)."""
    if value is None:
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return (
        "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    )


def toml_document(layer: dict[str, Any]) -> str:
    return "".join(
        f"{json.dumps(str(key))} = {toml_value(value)}\n" for key, value in layer.items()
    )


def _env_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _environ(layer: dict[str, Any]) -> dict[str, str]:
    # Development mode unless a layer says otherwise: production refuses any configuration
    # without a JWT secret, a public URL and server backends, which would hide the rest.
    environ = {"AVREG_TEST_SECRET": "a test secret of some length", "AVREG_MODE": "development"}
    for section, table in layer.items():
        if isinstance(table, dict) and table:
            for key, value in table.items():
                environ[f"AVREG_{section}__{key}".upper()] = _env_value(value)
        else:
            environ[f"AVREG_{section}".upper()] = _env_value(table)
    return environ


@dataclass(frozen=True)
class ConfigInput:
    #: The config file's content: TOML built from a layer, or raw (possibly broken) bytes.
    file: str | bytes | None
    environ: dict[str, str]
    overrides: dict[str, Any]


CONFIG_INPUTS = st.builds(
    ConfigInput,
    file=st.none()
    | CONFIG_LAYERS.map(toml_document)
    | st.builds(lambda text, cut: text[:cut], CONFIG_LAYERS.map(toml_document), st.integers(0, 80))
    | st.binary(max_size=60)
    | AWKWARD_TEXT,
    environ=CONFIG_LAYERS.map(_environ)
    | st.dictionaries(st.text(max_size=20).map(lambda name: "AVREG_" + name), TEXT, max_size=3),
    overrides=CONFIG_LAYERS,
)


def check_config(config: ConfigInput) -> str:
    """The config property: settings, or a :class:`ConfigError` listing the problems."""
    with tempfile.TemporaryDirectory(prefix="avreg-fuzz-") as directory:
        path = None
        if config.file is not None:
            path = Path(directory) / "registry.toml"
            data = (
                config.file.encode("utf-8", "surrogatepass")
                if isinstance(config.file, str)
                else config.file
            )
            path.write_bytes(data)
        # A data_dir the file or overrides do not set stays inside the temporary directory.
        overrides = {"data_dir": str(Path(directory) / "data"), **config.overrides}
        try:
            load_configuration(
                path, environ=config.environ, overrides=overrides, load_entry_points=False
            )
        except ConfigError:
            return "refused"
    return "accepted"


# ----------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    strategy: st.SearchStrategy
    check: Callable[[Any], str]


TARGETS: dict[str, Target] = {
    "card": Target(CARD_DOCUMENTS, check_card),
    "query": Target(QUERY_INPUTS, check_query),
    "config": Target(CONFIG_INPUTS, check_config),
}


def property_test(
    name: str,
    *,
    max_examples: int,
    outcomes: dict[str, int] | None = None,
    derandomize: bool = False,
    database: Any = None,
) -> Callable[..., None]:
    """The target's property as a hypothesis test: call it to run ``max_examples``, or hand
    ``.hypothesis.fuzz_one_input`` to an external fuzzer. ``outcomes`` counts what each
    input came to."""
    target = TARGETS[name]

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=derandomize,
        database=database,
        suppress_health_check=list(HealthCheck),
    )
    @given(target.strategy)
    def holds(value: Any) -> None:
        outcome = target.check(value)
        if outcomes is not None:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    return holds
