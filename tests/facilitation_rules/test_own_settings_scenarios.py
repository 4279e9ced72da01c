"""A member's own quiet hours and time zone through the real engine and database, on a simulated clock: a nudge
that would fall in their own quiet hours waits until those end, also across a restart; the settings are stored,
answered in the member's language, and gone after "forget me"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app.engine import Engine
from bot.app.replay import run_due_work
from bot.core.actions import Action, PostEphemeral, SendDirectMessage
from bot.core.events import CommandInvoked, Event, MemberJoined
from bot.settings import Settings
from storage.repository import T_MEMBER
from tests.conftest import make_settings
from tests.support import WS, at, community

MONDAY = at("2026-03-02 08:00")  # 09:00 in Berlin


class Conversation:
    """One community, across restarts on the same database, and what Steward said when."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.said: list[tuple[datetime, Action]] = []
        self.engine: Engine | None = None

    async def start(self, now: datetime) -> Engine:
        if self.engine is not None:
            await self.engine.close()
        self.engine = await community(self.settings, now)
        self.engine.observers.append(lambda event, actions, ctx: self.said.extend((event.at, a) for a in actions))
        return self.engine

    async def say(self, event: Event) -> Sequence[Action]:
        assert self.engine is not None
        await run_due_work(self.engine, until=event.at)
        self.engine.clock.set(event.at)  # type: ignore[attr-defined]
        return await self.engine.handle(event)

    async def wait_until(self, moment: datetime) -> None:
        assert self.engine is not None
        await run_due_work(self.engine, until=moment)
        self.engine.clock.set(moment)  # type: ignore[attr-defined]
        await self.engine.flush()

    def dms(self, kind: str, user: str = "nina") -> list[datetime]:
        return [when for when, a in self.said
                if isinstance(a, SendDirectMessage) and a.user == user and a.key.startswith(f"{kind}:")]

    async def stored(self, user: str = "nina") -> dict[str, object]:
        assert self.engine is not None
        await self.engine.flush()
        async with self.engine.db.connect() as conn:
            row = (await conn.execute(select(T_MEMBER).where(T_MEMBER.c.workspace_id == WS,
                                                             T_MEMBER.c.id == user))).one()
        return dict(row._mapping)

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.close()


def steward(user: str, args: str, when: datetime, *, zone: str | None = None, language: str | None = None
            ) -> CommandInvoked:
    """`/steward ARGS` as a platform delivers it, with what it says of the member's time zone and language."""
    return CommandInvoked(workspace=WS, at=when, channel="help", user=user, args=args, user_timezone=zone,
                          user_language=language)


def texts(actions: Sequence[Action]) -> str:
    return "\n".join(a.text for a in actions if isinstance(a, PostEphemeral))


async def test_the_invitation_waits_for_the_end_of_the_members_own_quiet_hours_across_a_restart(
    database_url: str,
) -> None:
    chat = Conversation(make_settings(database_url, steward_timezone="Europe/Berlin"))  # SQLite and PostgreSQL
    await chat.start(MONDAY)
    await chat.say(MemberJoined(workspace=WS, at=at("2026-03-02 09:00"), channel="help", user="nina",
                                user_name="nina"))
    assert chat.dms("welcome") == [at("2026-03-02 09:00")]
    # Slack says Berlin; she works from Los Angeles and sleeps late.
    said = await chat.say(steward("nina", "settings timezone America/Los_Angeles", at("2026-03-02 09:10"),
                                  zone="Europe/Berlin"))
    assert "your time zone is America/Los_Angeles; it is 01:10 there now" in texts(said)
    said = await chat.say(steward("nina", "settings quiet 22-10", at("2026-03-02 09:11"), zone="Europe/Berlin"))
    assert "your quiet hours are 22:00–10:00 in your time zone (America/Los_Angeles)" in texts(said)

    # The invitation falls due on Monday 09:00 UTC: 10:00 in Berlin (Slack's zone, outside her hours), 02:00 in
    # Los Angeles, where the clocks moved to summer time on Sunday. The community's hours (20 to 8) would let it go
    # at 08:00 there (15:00 UTC); hers hold it until 10:00 (17:00 UTC). Steward restarts while it waits.
    await chat.wait_until(at("2026-03-09 12:00"))
    assert chat.dms("invite") == []
    engine = await chat.start(at("2026-03-09 12:00"))
    nina = engine.state.member(WS, "nina")
    assert (nina.timezone, nina.chosen_timezone, nina.quiet_start, nina.quiet_end) == (
        "Europe/Berlin", "America/Los_Angeles", 22, 10), "her settings came back from the database"
    await chat.wait_until(at("2026-03-11 12:00"))
    assert chat.dms("invite") == [at("2026-03-09 17:00")], "10:00 in Los Angeles, once"
    await chat.stop()


async def test_settings_are_stored_answered_in_german_and_forgotten(settings: Settings) -> None:
    chat = Conversation(settings)
    await chat.start(MONDAY)
    said = await chat.say(steward("jonas", "settings ruhezeiten 21-6", MONDAY, language="de"))
    assert texts(said) == ("Gespeichert: Deine Ruhezeiten sind 21:00–06:00 in deiner Zeitzone (Europe/Berlin); "
                           "dann schicke ich dir keine Erinnerungen.")
    said = await chat.say(steward("jonas", "settings zeitzone Amerika/Chicago", MONDAY + timedelta(minutes=1),
                                  language="de"))
    assert texts(said).startswith("`Amerika/Chicago` kenne ich nicht als Zeitzone. Meintest du `America/Chicago`")
    said = await chat.say(steward("jonas", "settings zeitzone America/Chicago", MONDAY + timedelta(minutes=2),
                                  language="de"))
    assert texts(said) == "Gespeichert: Deine Zeitzone ist America/Chicago; dort ist es jetzt 02:02."
    row = await chat.stored("jonas")
    assert (row["quiet_start"], row["quiet_end"], row["chosen_timezone"]) == (21, 6, "America/Chicago")

    shown = texts(await chat.say(steward("jonas", "settings", MONDAY + timedelta(minutes=3), language="de")))
    assert "• Zeitzone: America/Chicago (deine eigene Wahl)" in shown
    assert "• Sprache: Deutsch (von deinem Chat-Profil)" in shown

    said = await chat.say(steward("jonas", "forget me", MONDAY + timedelta(minutes=4), language="de"))
    assert "Erledigt" in texts(said)
    row = await chat.stored("jonas")
    assert (row["quiet_start"], row["quiet_end"], row["chosen_timezone"]) == (None, None, None)
    await chat.stop()
