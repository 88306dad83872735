"""Every hookspec is documented, and the suite exercises every one of them."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from agentvault_registry.core import hookspecs
from support import EXERCISED_HOOKS


def hookspec_functions():
    return [
        function
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if function.__module__ == hookspecs.__name__
        and hasattr(function, "agentvault_registry_spec")
    ]


def test_hookspecs_are_found():
    assert len(hookspec_functions()) >= 8


@pytest.mark.parametrize("spec", hookspec_functions(), ids=lambda spec: spec.__name__)
def test_every_hookspec_has_a_docstring(spec):
    assert inspect.getdoc(spec), f"hookspec {spec.__name__} has no docstring"


@pytest.mark.runs_last
def test_every_hookspec_is_exercised_by_the_suite(request):
    config = request.config
    whole_suite = [Path(arg).resolve() for arg in config.args] == [Path(__file__).parent]
    if not whole_suite or config.option.keyword or config.option.markexpr:
        pytest.skip("only meaningful when the whole suite runs")
    names = {spec.__name__ for spec in hookspec_functions()}
    missing = sorted(names - EXERCISED_HOOKS)
    assert not missing, f"no test calls these hooks with an implementation: {missing}"
