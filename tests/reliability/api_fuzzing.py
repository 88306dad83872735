"""Schemathesis against a registry served on loopback, shared by the CI-bounded test
(tests/reliability/test_api_fuzz.py) and the long run (bench/api_fuzz.py).

One run fuzzes every operation of the registry's own OpenAPI document as one identity:
stateless (positive and negative data), then stateful, following the links schemathesis infers
from the ``Location`` headers it saw (and the links the document declares). The figures are
read from each scenario's recorded interactions and check results: the cases run, the 5xx
answers, the schema violations (status code, content type, response body), and, for the
anonymous caller, the protected operations (those the document gives a security requirement)
that answered 2xx.

The registry runs on the caller's event loop; schemathesis is synchronous (requests), so it runs
in a worker thread (:func:`fuzz_registry`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from agentvault_registry.config.loader import load_configuration
from agentvault_registry.core.app import create_app
from agentvault_registry.core.ops import OPENAPI_PATH
from agentvault_registry.core.ratelimit.declarations import declared_rate_limits
from fake_teg import FakeTeg
from registry_harness import deep_merged
from support import PASSWORD, free_port, self_onboarded, sign_up

IDENTITIES = ("anonymous", "developer", "agent", "admin")
LOGIN = "/api/v1/auth/login"
#: The checks that compare an answer with the document.
SCHEMA_CHECKS = (
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
SERVER_ERROR_CHECK = "not_a_server_error"
WITHOUT_AUTH_CHECK = "protected_operation_answered_without_auth"
#: Left to its own tests (tests/plugins/events): a stream that is let in never ends (a
#: heartbeat every few seconds), and a request/response fuzzer waits for the end of a body.
NOT_FUZZED = ("GET /api/v1/events/stream",)
JWKS = "/.well-known/jwks.json"


def unlimited_rates(pm: Any) -> dict[str, str]:
    """Every declared rate limit out of reach: a fuzzer is one client sending thousands of
    requests, and 429s would hide the answers worth checking."""
    return {name: "100000000/minute" for name in declared_rate_limits(pm)}


def fuzz_app(
    data_dir: str, storage: dict[str, Any], extra: dict[str, Any], plugins: Sequence[Any] = ()
) -> web.Application:
    """A development registry keeping its files in ``data_dir`` with ``storage`` overrides
    (the records backend), fast hashing, no rate limits, ``extra`` laid over it, and extra
    ``(name, plugin)`` pairs."""
    base = {"mode": "development", "data_dir": data_dir, "storage": storage}
    _, pm = load_configuration(None, environ={}, overrides=base, load_entry_points=False)
    overrides = deep_merged(
        base,
        {
            "plugins": {"auth": {"bcrypt_cost": 4}},
            "rate_limits": unlimited_rates(pm),
            **extra,
        },
    )
    settings, pm = load_configuration(
        None, environ={}, overrides=overrides, extra_plugins=plugins, load_entry_points=False
    )
    return create_app(settings, pm)


# ----------------------------------------------------------------------- the document


def documented_operations(document: Mapping[str, Any]) -> set[str]:
    """``"METHOD /path"`` of every operation of the document."""
    return {
        f"{method.upper()} {path}"
        for path, operations in document.get("paths", {}).items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
    }


def demands_credentials(requirements: Any) -> bool:
    """Whether an effective OpenAPI security requirement list lets no one in without
    credentials: not empty, and without the empty ``{}`` alternative."""
    return bool(requirements) and {} not in requirements


def protected_operations(document: Mapping[str, Any]) -> set[str]:
    """``"METHOD /path"`` of every operation whose security requirement demands credentials
    (its own, or else the document's)."""
    default = document.get("security", [])
    return {
        f"{method.upper()} {path}"
        for path, operations in document.get("paths", {}).items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and demands_credentials(operation.get("security", default))
    }


@schemathesis.check
def protected_operation_answered_without_auth(ctx: Any, response: Any, case: Any) -> None:
    """The anonymous run's check: an operation whose security requirement demands credentials
    never succeeds. Whatever credentials schemathesis made up for it are not valid ones."""
    operation = case.operation
    default = operation.schema.raw_schema.get("security", [])
    requirements = operation.definition.raw.get("security", default)
    if demands_credentials(requirements) and 200 <= response.status_code < 300:
        raise AssertionError(
            f"{operation.label} requires credentials but answered {response.status_code} "
            "to a caller without valid ones"
        )


# ------------------------------------------------------------------------ identities


@dataclass
class Credentials:
    """How one identity authenticates: fixed headers (an API key), or a login that
    schemathesis repeats whenever the session ends (a fuzzed logout or password change ends
    it: the next 401 logs in again)."""

    headers: dict[str, str] = field(default_factory=dict)
    login: dict[str, str] | None = None


async def credentials_for(client: TestClient, identity: str) -> Credentials:
    """Create ``identity`` in the registry behind ``client``: a verified developer, an admin,
    or an agent that onboarded itself with a bootstrap token of a developer's (its own API
    key)."""
    if identity == "anonymous":
        return Credentials()
    if identity in ("developer", "admin"):
        role = "admin" if identity == "admin" else None
        await sign_up(client, f"fuzz{identity}", role=role)
        return Credentials(login={"username": f"fuzz{identity}", "password": PASSWORD})
    if identity == "agent":
        owner = await sign_up(client, "fuzzagentowner")
        onboarded = await self_onboarded(
            client,
            owner.headers,
            {
                "name": "Fuzzed Agent",
                "description": "An agent that calls the API with its own key.",
                "apiEndpoints": ["https://fuzzed-agent.example.com/a2a"],
            },
        )
        return Credentials(headers={"X-API-Key": onboarded["credentials"]["api_key"]})
    raise ValueError(f"unknown identity {identity!r}; one of {', '.join(IDENTITIES)}")


def _login_provider(base_url: str, login: dict[str, str]) -> type:
    class SessionLogin:
        """A bearer access token from a fresh login (schemathesis caches it, and fetches a
        new one after a 401)."""

        def get(self, case: Any, ctx: Any) -> str:
            answer = requests.post(base_url + LOGIN, json=login, timeout=30)
            answer.raise_for_status()
            return answer.json()["access_token"]

        def set(self, case: Any, token: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    return SessionLogin


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Limits:
    """How much to generate: examples per operation in the stateless phases, and the
    stateful phase's scenarios and steps."""

    max_examples: int = 10
    stateful_examples: int = 10
    stateful_steps: int = 6
    seed: int = 20261207
    #: schemathesis' coverage phase as well: boundary and just-out-of-bounds values of every
    #: parameter, deterministic (many cases: a small run of it in CI, all of it in the long run).
    coverage: bool = False
    #: Only these operations (``"METHOD /path"``), when set.
    only: Collection[str] | None = None


@dataclass
class Finding:
    check: str
    operation: str
    status: int | None
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.operation} -> {self.status}: {self.message}"


@dataclass
class FuzzReport:
    identity: str
    cases: Counter[str] = field(default_factory=Counter)  # per phase
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[Finding] = field(default_factory=list)
    schema_violations: list[Finding] = field(default_factory=list)
    answered_without_auth: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inferred_links: int = 0
    #: Operations the run sent a request to, of those the document holds (minus NOT_FUZZED).
    operations: set[str] = field(default_factory=set)
    documented: set[str] = field(default_factory=set)
    protected: set[str] = field(default_factory=set)

    @property
    def total_cases(self) -> int:
        return sum(self.cases.values())

    @property
    def responses_5xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def problems(self) -> list[str]:
        found = [*self.server_errors, *self.schema_violations, *self.answered_without_auth]
        return [str(item) for item in found] + self.errors


def _config(base_url: str, identity: str, credentials: Credentials, limits: Limits) -> Any:
    checks: dict[str, Any] = {
        "enabled": False,
        SERVER_ERROR_CHECK: {"enabled": True},
        **{name: {"enabled": True} for name in SCHEMA_CHECKS},
        WITHOUT_AUTH_CHECK: {"enabled": identity == "anonymous"},
    }
    stateless = {"generation": {"mode": "all", "max-examples": limits.max_examples}}
    return SchemathesisConfig.from_dict(
        {
            "color": False,
            # No cache of earlier runs' observations in the working directory: each run is
            # reproducible from its seed alone.
            "cache": {"enabled": False},
            # Each identity is the one given: schemathesis must not sign up one of its own.
            "auth": {"auto-signup": False},
            "seed": limits.seed,
            "base-url": base_url,
            "headers": credentials.headers,
            "request-timeout": 30,
            "checks": checks,
            # Every failure is counted; schemathesis must not stop at the first ones.
            "max-failures": 1_000_000,
            "generation": {"deterministic": True, "database": "none"},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": limits.coverage},
                "fuzzing": {"enabled": True, **stateless},
                "stateful": {
                    "enabled": True,
                    "max-steps": limits.stateful_steps,
                    "inference": {"algorithms": ["location-headers"]},
                    "generation": {"max-examples": limits.stateful_examples},
                },
            },
        }
    )


def run_schemathesis(
    base_url: str, identity: str, credentials: Credentials, limits: Limits
) -> FuzzReport:
    """Fuzz the registry at ``base_url`` as ``identity``; blocking (run it in a thread)."""
    config = _config(base_url, identity, credentials, limits)
    schema = schemathesis.openapi.from_url(base_url + OPENAPI_PATH, config=config)
    schema = schema.exclude(name=list(NOT_FUZZED))
    if limits.only is not None:
        schema = schema.include(name=list(limits.only))
    if credentials.login is not None:
        schema.auth(refresh_interval=600)(_login_provider(base_url, credentials.login))
    document = requests.get(base_url + OPENAPI_PATH, timeout=30).json()
    # schemathesis leaves out the operation serving the document it tests.
    left_out = {*NOT_FUZZED, f"GET {OPENAPI_PATH}"}
    chosen = documented_operations(document) - left_out
    if limits.only is not None:
        chosen &= set(limits.only)
    report = FuzzReport(
        identity, documented=chosen, protected=protected_operations(document) & chosen
    )
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(report, event)
        elif isinstance(event, events.PhaseStarted) and event.payload is not None:
            report.inferred_links = event.payload.inferred_transitions
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
    return report


def _record(report: FuzzReport, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    phase = event.phase.value
    for case_id, interaction in recorder.interactions.items():
        if interaction.response is None:
            continue
        report.cases[phase] += 1
        report.statuses[interaction.response.status_code] += 1
        node = recorder.cases.get(case_id)
        if node is not None:
            report.operations.add(node.value.operation.label)
    for case_id, checks in recorder.checks.items():
        node = recorder.cases.get(case_id)
        label = node.value.operation.label if node is not None else event.recorder.label
        response = recorder.interactions.get(case_id)
        status = response.response.status_code if response and response.response else None
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            finding = Finding(check.name, label, status, f"{failure.title}: {failure.message}")
            if check.name == SERVER_ERROR_CHECK:
                report.server_errors.append(finding)
            elif check.name in SCHEMA_CHECKS:
                report.schema_violations.append(finding)
            elif check.name == WITHOUT_AUTH_CHECK:
                report.answered_without_auth.append(finding)
            else:
                report.errors.append(str(finding))


# ------------------------------------------------------------------- serving and all


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[TestClient]:
    """``app`` listening on a loopback port of this process's block (:func:`free_port`)."""
    client = TestClient(TestServer(app, host="127.0.0.1", port=free_port()))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def fuzz_registry(
    build_app: Callable[[dict[str, Any]], web.Application], identity: str, limits: Limits
) -> FuzzReport:
    """Build the registry with ``build_app(overrides)``, its TEG bridge pointing at a fake TEG
    on loopback (so the agent's token exchange is fuzzed for real, not a 501), serve it,
    create ``identity`` in it, and fuzz it as that identity."""
    teg = await FakeTeg().start()
    try:
        bridge = {"token_url": teg.url, "allow_http": True, "allow_private": True}
        app = build_app({"plugins": {"teg_bridge": bridge}})
        async with served(app) as client:
            teg.jwks_url = str(client.make_url(JWKS))
            credentials = await credentials_for(client, identity)
            base_url = str(client.make_url("")).rstrip("/")
            return await asyncio.to_thread(
                run_schemathesis, base_url, identity, credentials, limits
            )
    finally:
        await teg.close()
