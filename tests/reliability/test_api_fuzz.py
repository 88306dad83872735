"""Bounded schemathesis run in CI: every operation of the OpenAPI document, stateless and
stateful, as each identity, on each records backend; no 5xx, no answer that contradicts the
document, and no protected operation that lets an anonymous caller through. bench/api_fuzz.py
is the long run of the same code."""

from __future__ import annotations

import pytest
from api_fuzzing import IDENTITIES, Limits, fuzz_app, fuzz_registry

pytestmark = pytest.mark.slow

#: Sized for CI: the eight runs of this module together stay within about two minutes on
#: two workers.
CI_LIMITS = Limits(max_examples=8, stateful_examples=6, stateful_steps=5)


@pytest.mark.parametrize("identity", IDENTITIES)
async def test_fuzzing_finds_nothing(tmp_path, records_overrides, identity):
    def build(extra):
        return fuzz_app(str(tmp_path / "data"), records_overrides, extra)

    report = await fuzz_registry(build, identity, CI_LIMITS)

    problems = report.problems()
    assert not problems, "\n".join(problems)
    assert report.total_cases > 0
