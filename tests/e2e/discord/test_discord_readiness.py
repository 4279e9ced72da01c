"""Readiness of the Discord connection (`/readyz`'s `discord` check), with the real discord.py client against the
local fake gateway: ready once READY came, ready again after a resume, not ready once the gateway ended for good."""

from __future__ import annotations

import asyncio

from tests.e2e.discord import fake_discord as fd
from tests.e2e.discord.test_discord_e2e import World, world  # noqa: F401  (the fixture)


async def becomes_ready(world: World, attempts: int = 200) -> bool:  # noqa: F811
    """Whether `ready()` says yes within a few seconds (the resume completes a moment after the fake counts it)."""
    for _ in range(attempts):
        if await world.adapter.ready():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_the_gateway_connection_is_ready_after_a_resume_and_not_once_it_ended(world: World) -> None:  # noqa: F811
    assert await world.adapter.ready()

    await world.fake.drop(4000)  # a failing Discord server: discord.py resumes
    await fd.wait_for(lambda: world.fake.resumes == 1)
    assert await becomes_ready(world)

    await world.fake.drop(4004)  # the token refused: the connection ends for good
    await fd.wait_for(lambda: world.adapter.ended is not None)
    assert not await world.adapter.ready()
