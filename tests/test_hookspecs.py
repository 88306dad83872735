"""Every hookspec is documented. That the whole suite exercises every one of them is checked
at the end of the session, by ``tests/conftest.py``."""

from __future__ import annotations

import inspect

import pytest

from support import hookspec_functions


def test_hookspecs_are_found():
    assert len(hookspec_functions()) >= 8


@pytest.mark.parametrize("spec", hookspec_functions(), ids=lambda spec: spec.__name__)
def test_every_hookspec_has_a_docstring(spec):
    assert inspect.getdoc(spec), f"hookspec {spec.__name__} has no docstring"
