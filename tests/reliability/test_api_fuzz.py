"""Bounded schemathesis run in CI: every operation of the OpenAPI document, stateless and
stateful, as each identity, on each records backend; no 5xx, no answer that contradicts the
document, and no protected operation that lets an anonymous caller through. bench/api_fuzz.py
is the long run of the same code."""

from __future__ import annotations

import pytest
from aiohttp import web
from api_fuzzing import IDENTITIES, Limits, fuzz_app, fuzz_registry

from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.openapi import api_doc

pytestmark = pytest.mark.slow

#: Sized for CI: the eight runs of this module together stay within about two minutes on
#: two workers.
CI_LIMITS = Limits(max_examples=5, stateful_examples=4, stateful_steps=5)
#: They can create what a Location header (or a declared link) leads on from.
CREATORS = ("developer", "admin")


@pytest.mark.parametrize("identity", IDENTITIES)
async def test_fuzzing_finds_nothing(tmp_path, records_overrides, identity):
    def build(extra):
        return fuzz_app(str(tmp_path / "data"), records_overrides, extra)

    report = await fuzz_registry(build, identity, CI_LIMITS)

    problems = report.problems()
    assert not problems, "\n".join(problems)
    assert report.responses_5xx == 0
    assert report.operations == report.documented
    assert report.protected and report.protected < report.documented
    if identity in CREATORS:
        assert report.inferred_links > 0
        assert report.cases["stateful"] > 0


#: The boundary-value phase: deterministic, and where the empty card's 500 and the undocumented
#: ``explain`` were found. On SQLite only, for time: its cases depend on the document, not on
#: the records backend.
COVERAGE_LIMITS = Limits(max_examples=1, stateful_examples=1, stateful_steps=2, coverage=True)


@pytest.mark.parametrize("identity", ["anonymous", "developer"])
async def test_the_boundary_values_find_nothing(tmp_path, identity):
    def build(extra):
        return fuzz_app(str(tmp_path / "data"), {}, extra)

    report = await fuzz_registry(build, identity, COVERAGE_LIMITS)

    problems = report.problems()
    assert not problems, "\n".join(problems)
    assert report.responses_5xx == 0
    assert report.operations == report.documented
    # Boundaries of every parameter: far more cases than the examples alone would make.
    assert report.total_cases > 20 * len(report.documented)


class FaultyRoutes:
    """Routes that break each promise the fuzzing checks, to show it catches them."""

    @hookimpl
    def register_routes(self, settings):
        @api_doc("Documented as protected, lets anyone in", tags=["faulty"], auth=True)
        async def leaky(request):
            return web.json_response({"secret": "for everyone"})

        @api_doc("Fails", tags=["faulty"])
        async def crashing(request):
            raise RuntimeError("boom")

        @api_doc("Answers what it does not document", tags=["faulty"])
        async def undocumented(request):
            return web.json_response({"surprise": True}, status=418)

        return [
            web.get("/api/v1/faulty/leaky", leaky),
            web.get("/api/v1/faulty/crashing", crashing),
            web.get("/api/v1/faulty/undocumented", undocumented),
        ]


async def test_the_checks_catch_a_5xx_a_schema_violation_and_a_leak(tmp_path):
    only = [
        "GET /api/v1/faulty/leaky",
        "GET /api/v1/faulty/crashing",
        "GET /api/v1/faulty/undocumented",
    ]

    def build(extra):
        return fuzz_app(str(tmp_path / "data"), {}, extra, plugins=[("faulty", FaultyRoutes())])

    report = await fuzz_registry(build, "anonymous", Limits(max_examples=3, only=only))

    assert {finding.operation for finding in report.server_errors} == {only[1]}
    assert only[2] in {finding.operation for finding in report.schema_violations}
    assert {finding.operation for finding in report.answered_without_auth} == {only[0]}
    assert report.operations == set(only)
