"""Driver exceptions never leave a backend: outages become 503s, violations 409s."""

from __future__ import annotations

import sqlite3

import pytest

from agentvault_registry.core.errors import BackendError, Conflict
from agentvault_registry.storage_backends.base import translate_errors

DRIVER_ERRORS = (sqlite3.Error, OSError)
CONFLICTS = (sqlite3.IntegrityError,)


def test_an_outage_becomes_a_backend_error_naming_the_backend():
    with (
        pytest.raises(BackendError) as caught,
        translate_errors("sqlite", DRIVER_ERRORS, CONFLICTS),
    ):
        raise sqlite3.OperationalError("disk I/O error")
    assert caught.value.backend == "sqlite"
    assert caught.value.headers["Retry-After"] == "5"
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)


def test_a_constraint_violation_becomes_a_conflict_without_schema_detail():
    with pytest.raises(Conflict) as caught, translate_errors("sqlite", DRIVER_ERRORS, CONFLICTS):
        raise sqlite3.IntegrityError("UNIQUE constraint failed: users.email")
    assert "users.email" not in caught.value.message


def test_errors_that_are_not_the_drivers_pass_through():
    with pytest.raises(KeyError), translate_errors("sqlite", DRIVER_ERRORS, CONFLICTS):
        raise KeyError("programming error")
