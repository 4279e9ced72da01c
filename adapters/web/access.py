"""Who is reading and what they may see.

A member sees their community's public channels and the private channels they have written in (the membership
Steward can vouch for). Facilitators also see health figures and curate lessons. Figures about fewer people than
the privacy floor are withheld, so nobody can be singled out by a small group's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.health_charts import enough_people
from storage import boards
from storage.boards import ChannelInfo, Community

__all__ = ["Viewer", "enough_people", "viewer_for"]


@dataclass(frozen=True)
class Viewer:
    """The signed-in member, with the channels the pages may show them."""

    community: Community
    member: str
    name: str
    facilitator: bool
    channels: tuple[ChannelInfo, ...]

    @property
    def visible(self) -> frozenset[str]:
        return frozenset(channel.id for channel in self.channels)

    @property
    def public(self) -> frozenset[str]:
        """Visible channels that are not private: the only ones health figures and digests count."""
        return frozenset(channel.id for channel in self.channels if not channel.private)

    def channel_name(self, channel: str) -> str:
        return next((c.name for c in self.channels if c.id == channel), channel)


async def viewer_for(
    db: AsyncEngine, workspace: str, member: str, facilitator_ids: frozenset[str], facilitators_channel: str
) -> Viewer | None:
    """The viewer, or None if the workspace or member is unknown (a session from a forgotten member).

    A facilitator is one by Steward's record or configuration, or someone who writes in the facilitators'
    channel, where Steward escalates to them.
    """
    async with db.connect() as conn:
        found = await boards.community(conn, workspace)
        row = await boards.member_row(conn, workspace, member)
        if found is None or row is None or row.is_bot:
            return None
        written = await boards.channels_written_in(conn, workspace, member)
        every = await boards.channels(conn, workspace)
    in_facilitators_channel = any(
        c.id in written and (c.kind == "facilitators" or c.name == facilitators_channel) for c in every
    )
    facilitator = bool(row.is_facilitator) or member in facilitator_ids or in_facilitators_channel
    seen = tuple(c for c in every if not c.private or c.id in written)
    return Viewer(found, member, row.name or member, facilitator, seen)
