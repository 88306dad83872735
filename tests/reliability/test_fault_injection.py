"""Fault injection against real servers, under load: Redis killed or frozen, PostgreSQL
stopped or frozen, the S3 blob store down or frozen (each then restarted), and federation peers that
hang, reset mid-body or answer slowly. The scenarios and their policy are in
:mod:`fault_scenarios`; these are their short versions (``bench/fault_injection.py`` runs the
long ones and prints the figures)."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from fault_scenarios import (
    Figures,
    Phases,
    blob_store_outage,
    misbehaving_peers,
    postgres_outage,
    redis_outage,
)

from private_servers import postgres_bindir, running_postgres, running_redis, running_s3

PHASES = Phases(clients=4, before=1.0, outage=2.5, recovery_limit=15.0, settle=1.0)
#: A frozen server makes each request wait a timeout (up to 2 s): a longer fault, so that
#: some requests start, and end, while it lasts.
FROZEN = dataclasses.replace(PHASES, outage=4.0)


def assert_held(figures: Figures) -> None:
    print(figures.line())  # shown with -s or -rA: the figures of this run
    assert figures.violations == [], "\n".join([figures.line(), *figures.violations[:20]])
    assert figures.hung == 0 and figures.lost == []
    assert figures.writes_acked > 0 and figures.writes_checked > 0


@pytest.mark.redis
@pytest.mark.slow
async def test_redis_killed_under_load(make_settings, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with running_redis(tmp_path) as redis:
        figures = await redis_outage(make_settings, tmp_path, redis, PHASES)
    assert_held(figures)
    assert figures.unavailable > 0 and figures.outage_available_ok > 0
    assert figures.recovered_after is not None


@pytest.mark.redis
@pytest.mark.slow
async def test_redis_frozen_under_load(make_settings, tmp_path):
    """A Redis that accepts and never answers: only the socket timeouts end each wait."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with running_redis(tmp_path) as redis:
        figures = await redis_outage(make_settings, tmp_path, redis, FROZEN, frozen=True)
    assert_held(figures)
    assert figures.unavailable > 0 and figures.outage_available_ok > 0


@pytest.mark.postgres
@pytest.mark.slow
async def test_postgres_stopped_under_load(make_settings, tmp_path):
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    with running_postgres(bindir) as postgres:
        figures = await postgres_outage(make_settings, tmp_path, postgres, PHASES)
    assert_held(figures)
    assert figures.unavailable > 0


@pytest.mark.postgres
@pytest.mark.slow
async def test_postgres_frozen_under_load(make_settings, tmp_path):
    """A PostgreSQL that accepts and never answers: a statement on a pooled connection ends
    with its command timeout, a new connection with the connect/acquire timeout."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    with running_postgres(bindir) as postgres:
        figures = await postgres_outage(make_settings, tmp_path, postgres, FROZEN, frozen=True)
    assert_held(figures)
    assert figures.unavailable > 0


@pytest.mark.s3
@pytest.mark.slow
async def test_blob_store_down_under_load(make_settings, tmp_path):
    pytest.importorskip("moto.server")
    with running_s3() as s3:
        figures = await blob_store_outage(make_settings, tmp_path, s3, PHASES)
    assert_held(figures)
    assert figures.unavailable > 0 and figures.outage_available_ok > 0


@pytest.mark.s3
@pytest.mark.slow
async def test_blob_store_frozen_under_load(make_settings, tmp_path):
    """A store that accepts and never answers: every blob call ends with its read timeout."""
    pytest.importorskip("moto.server")
    with running_s3() as s3:
        figures = await blob_store_outage(make_settings, tmp_path, s3, FROZEN, frozen=True)
    assert_held(figures)
    assert figures.unavailable > 0 and figures.outage_available_ok > 0


@pytest.mark.slow
async def test_misbehaving_peers_under_load(make_settings, tmp_path):
    figures = await misbehaving_peers(make_settings, tmp_path, PHASES)
    assert_held(figures)
    assert figures.succeeded == figures.issued
