"""The prober's admission of requests, on its own: the bound per host and in all, politeness
between the starts of one host's requests, and turns that come too late."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from agentvault_registry.plugins.liveness.slots import HostSlots, SlotExpired


class Held:
    """Requests that, once admitted, stay in flight until released; counts them."""

    def __init__(self, slots: HostSlots) -> None:
        self.slots = slots
        self.in_flight: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.admitted: list[tuple[str, float]] = []
        self.release = asyncio.Event()
        self.changed = asyncio.Event()

    async def request(self, host: str) -> None:
        async with self.slots.request(host):
            self.admitted.append((host, asyncio.get_running_loop().time()))
            self.in_flight[host] = self.in_flight.get(host, 0) + 1
            self.most[host] = max(self.most.get(host, 0), self.in_flight[host])
            self.changed.set()
            await self.release.wait()
            self.in_flight[host] -= 1

    async def until(self, admitted: int) -> None:
        while len(self.admitted) < admitted:
            self.changed.clear()
            await self.changed.wait()


async def test_no_more_than_the_per_host_limit_is_in_flight_to_one_host():
    held = Held(HostSlots(total=10, per_host=2, delay=0))
    tasks = [asyncio.create_task(held.request("a.example:443")) for _ in range(6)]
    await held.until(2)
    # The others are queued, not admitted, however long they wait.
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(held.admitted) == 2
    held.release.set()
    await asyncio.gather(*tasks)
    assert held.most == {"a.example:443": 2}
    assert len(held.admitted) == 6


async def test_a_host_at_its_limit_keeps_no_other_host_waiting():
    held = Held(HostSlots(total=3, per_host=2, delay=0))
    busy = [asyncio.create_task(held.request("busy.example:443")) for _ in range(10)]
    await held.until(2)
    other = asyncio.create_task(held.request("other.example:443"))
    await held.until(3)
    assert held.admitted[-1][0] == "other.example:443"
    held.release.set()
    await asyncio.gather(*busy, other)


async def test_the_total_bounds_all_hosts_together():
    held = Held(HostSlots(total=3, per_host=2, delay=0))
    tasks = [asyncio.create_task(held.request(f"host-{n % 3}.example:443")) for n in range(9)]
    await held.until(3)
    for _ in range(20):
        await asyncio.sleep(0)
    assert sum(held.in_flight.values()) == 3
    held.release.set()
    await asyncio.gather(*tasks)
    assert len(held.admitted) == 9


async def test_requests_to_one_host_start_the_delay_apart():
    delay = 0.05
    slots = HostSlots(total=10, per_host=3, delay=delay)
    started: list[float] = []

    async def request(host: str) -> None:
        async with slots.request(host):
            started.append(asyncio.get_running_loop().time())

    await asyncio.gather(*(request("polite.example:443") for _ in range(4)))
    gaps = [later - earlier for earlier, later in itertools.pairwise(started)]
    # The loop may wake a timer up to its clock's resolution early.
    resolution = time.get_clock_info("monotonic").resolution
    assert len(gaps) == 3 and min(gaps) >= delay - resolution, gaps


async def test_other_hosts_do_not_wait_out_a_hosts_delay():
    slots = HostSlots(total=10, per_host=1, delay=3600)
    async with slots.request("slow-to-repeat.example:443"):
        pass
    # Were the delay shared, this would wait an hour.
    async with slots.request("another.example:443"):
        pass


async def test_a_turn_past_the_deadline_is_refused_and_frees_its_place():
    loop = asyncio.get_running_loop()
    slots = HostSlots(total=1, per_host=1, delay=3600)
    async with slots.request("once.example:443", not_after=loop.time() + 60):
        pass
    with pytest.raises(SlotExpired):
        async with slots.request("once.example:443", not_after=loop.time() + 60):
            raise AssertionError("admitted an hour early")
    # The refused request took no place of the total.
    async with slots.request("elsewhere.example:443", not_after=loop.time() + 60):
        pass
