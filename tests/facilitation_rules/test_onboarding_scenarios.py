"""Onboarding as conversations on a simulated clock (Berlin): a newcomer joins, is welcomed once, and is invited
once if they stay silent: never twice, not across a restart, never during quiet hours, never after "forget me"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.app.engine import Engine
from bot.app.replay import run_due_work
from bot.core.actions import Action, PostEphemeral, SendDirectMessage
from bot.core.events import Event, MemberJoined
from bot.core.lessons import LessonDraft
from bot.settings import Settings
from facilitation_rules.onboarding import next_try
from storage.lessons import LessonStore
from tests.support import WS, at, command, community, message

MONDAY = at("2026-03-02 08:00")  # 09:00 in Berlin
FACILITATORS = "fran"


class Conversation:
    """One community, possibly across several engines on the same database (restarts), and what Steward said."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.model_copy(update={"facilitators": FACILITATORS})
        self.said: list[tuple[datetime, Action]] = []
        self.engine: Engine | None = None

    async def start(self, now: datetime, *, language: str = "en") -> Engine:
        if self.engine is not None:
            await self.engine.close()
        self.engine = await community(self.settings, now, language=language)
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

    def dms(self, kind: str, user: str = "nina") -> list[tuple[datetime, SendDirectMessage]]:
        return [(when, a) for when, a in self.said
                if isinstance(a, SendDirectMessage) and a.user == user and a.key.startswith(f"{kind}:")]

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.close()


def joins(user: str, when: datetime, channel: str = "help") -> MemberJoined:
    return MemberJoined(workspace=WS, at=when, channel=channel, user=user, user_name=user)


async def test_join_welcome_silence_one_invitation_and_never_again_across_restarts(settings: Settings) -> None:
    chat = Conversation(settings)
    engine = await chat.start(MONDAY)
    store = LessonStore(engine.db)
    for n, (title, when) in enumerate([("Booking rooms", "2026-02-20"), ("SAP roles", "2026-02-25"),
                                       ("Teams vs SharePoint", "2026-02-27"), ("Old lesson", "2026-01-05")]):
        await store.upsert(WS, f"root{n}", LessonDraft(title=title, summary="s"), channel_id="help",
                           permalink=f"https://chat.example/{n}", now=at(f"{when} 10:00"))
    verified, _ = await store.upsert(WS, "root9", LessonDraft(title="How we work here", summary="s"),
                                     channel_id="help", permalink="", now=at("2026-01-02 10:00"))
    assert verified.id is not None
    await store.verify(WS, verified.id, by="fran", now=at("2026-02-01 10:00"))
    await chat.say(message("fran", "Good morning!", MONDAY))
    purpose = "Change agents help each other with the Microsoft 365 rollout."
    replies = await chat.say(command("fran", f"channel purpose {purpose}", MONDAY + timedelta(minutes=1)))
    assert [r.text for r in replies if isinstance(r, PostEphemeral)] == [
        f"Saved. Newcomers to <#help> will read: {purpose}"
    ]

    await chat.say(joins("nina", at("2026-03-02 09:00")))
    [(when, welcome)] = chat.dms("welcome")
    assert when == at("2026-03-02 09:00")
    assert "Welcome to <#help>" in welcome.text and purpose in welcome.text
    # Up to three lessons to start with: the most recently verified first, then the most recent.
    lessons = [line for line in welcome.text.splitlines() if line.startswith("• ")]
    assert [line.split(" https")[0] for line in lessons] == ["• How we work here", "• Teams vs SharePoint",
                                                             "• SAP roles"]
    assert "<@fran>" in welcome.text, "who the facilitators are"
    assert "post your question in <#help>" in welcome.text, "how to ask"
    assert "because you joined <#help>" in welcome.text, "why this message came"

    # A restart after the welcome: the invitation still comes, once, seven days after joining.
    await chat.wait_until(at("2026-03-05 12:00"))
    await chat.start(at("2026-03-05 12:00"))
    await chat.wait_until(at("2026-03-12 09:00"))
    [(when, invite)] = chat.dms("invite")
    assert when == at("2026-03-09 09:00") and "7 days ago" in invite.text and "<#help>" in invite.text
    assert "won't ask again" in invite.text

    # Another restart and a month of silence: never a second one.
    await chat.start(at("2026-03-12 09:00"))
    await chat.wait_until(at("2026-04-15 09:00"))
    await chat.say(joins("nina", at("2026-04-15 09:30"), channel="general"))  # joining another channel
    assert len(chat.dms("welcome")) == 1 and len(chat.dms("invite")) == 1
    member = chat.engine.state.member(WS, "nina")  # type: ignore[union-attr]
    assert (member.joined_at, member.welcomed_at, member.invited_at) == (
        at("2026-03-02 09:00"), at("2026-03-02 09:00"), at("2026-03-09 09:00")
    )
    await chat.stop()


async def test_a_newcomer_who_posts_gets_no_invitation(settings: Settings) -> None:
    chat = Conversation(settings)
    await chat.start(MONDAY)
    await chat.say(joins("nina", at("2026-03-02 09:00")))
    await chat.say(message("nina", "Hi all, happy to be here!", at("2026-03-04 10:00"), channel="general"))
    await chat.wait_until(at("2026-03-20 09:00"))
    assert len(chat.dms("welcome")) == 1 and chat.dms("invite") == []
    assert chat.engine.state.member(WS, "nina").first_post_at == at("2026-03-04 10:00")  # type: ignore[union-attr]
    await chat.stop()


async def test_quiet_hours_hold_the_welcome_until_morning_even_across_a_restart(settings: Settings) -> None:
    chat = Conversation(settings)
    await chat.start(MONDAY)
    await chat.say(joins("nina", at("2026-03-02 21:30")))  # 22:30 in Berlin: quiet hours (20 to 8)
    assert chat.dms("welcome") == []
    await chat.wait_until(at("2026-03-03 03:00"))
    await chat.start(at("2026-03-03 03:00"))  # the deferred welcome is derived again from the stored join
    await chat.wait_until(at("2026-03-03 12:00"))
    [(when, _)] = chat.dms("welcome")
    assert when == at("2026-03-03 07:30"), "08:30 in Berlin: the first retry after quiet hours end"
    assert when == next_try(at("2026-03-02 21:30"), at("2026-03-03 07:00"))
    await chat.stop()


async def test_a_forgotten_or_muted_member_is_never_welcomed_or_invited(settings: Settings) -> None:
    chat = Conversation(settings)
    await chat.start(MONDAY)
    await chat.say(joins("nina", at("2026-03-02 09:00")))
    await chat.say(command("nina", "forget me", at("2026-03-02 09:05")))
    await chat.wait_until(at("2026-03-20 09:00"))
    assert len(chat.dms("welcome")) == 1 and chat.dms("invite") == [], "forgotten: no invitation"

    await chat.say(command("omar", "mute 30", at("2026-03-20 09:00")))
    await chat.say(joins("omar", at("2026-03-20 09:01")))
    await chat.wait_until(at("2026-04-10 09:00"))
    assert chat.dms("welcome", "omar") == [] and chat.dms("invite", "omar") == []
    await chat.stop()


async def test_someone_steward_knew_before_is_no_newcomer_and_bots_are_not_welcomed(settings: Settings) -> None:
    chat = Conversation(settings)
    engine = await chat.start(MONDAY)
    await chat.say(message("ben", "Morning", at("2026-03-02 08:30"), channel="general"))
    await chat.say(joins("ben", at("2026-03-02 09:00")))
    engine.state.member(WS, "robo").is_bot = True
    await chat.say(joins("robo", at("2026-03-02 09:10")))
    await chat.say(command("fran", "unwatch", at("2026-03-02 09:20"), channel="random"))
    await chat.say(joins("carla", at("2026-03-02 09:30"), channel="random"))  # not a facilitated channel
    await chat.wait_until(at("2026-03-20 09:00"))
    assert [a for _, a in chat.said if isinstance(a, SendDirectMessage)] == []
    await chat.stop()


async def test_a_german_channel_welcomes_in_german_and_the_purpose_can_be_read_and_removed(
    settings: Settings,
) -> None:
    chat = Conversation(settings)
    await chat.start(MONDAY)
    await chat.say(command("fran", "settings language de", MONDAY, channel="wandel"))
    shown = await chat.say(command("fran", "channel purpose", MONDAY + timedelta(minutes=1), channel="wandel"))
    assert "no purpose yet" in shown[0].text  # type: ignore[attr-defined]
    await chat.say(command("fran", "channel purpose Wir teilen, was im Wandel hilft.", MONDAY + timedelta(minutes=2),
                           channel="wandel"))
    await chat.say(joins("jonas", at("2026-03-02 09:00"), channel="wandel"))
    [(_, welcome)] = chat.dms("welcome", "jonas")
    assert welcome.text.startswith("👋 Willkommen in <#wandel>!")
    assert "Wir teilen, was im Wandel hilft." in welcome.text and "So fragst du" in welcome.text
    await chat.wait_until(at("2026-03-10 09:00"))
    [(_, invite)] = chat.dms("invite", "jonas")
    assert "vor 7 Tagen beigetreten" in invite.text

    await chat.say(command("fran", "channel purpose off", at("2026-03-10 09:01"), channel="wandel"))
    await chat.say(joins("lea", at("2026-03-10 09:05"), channel="wandel"))
    [(_, welcome)] = chat.dms("welcome", "lea")
    assert "Wir teilen" not in welcome.text
    await chat.stop()


async def test_newcomer_conversion_per_month_in_stats_and_a_line_in_the_digest(settings: Settings) -> None:
    chat = Conversation(settings)
    await chat.start(MONDAY)
    for n, who in enumerate(["nina", "omar", "pia"]):
        await chat.say(joins(who, at("2026-03-02 09:00") + timedelta(minutes=n)))
    await chat.say(message("ana", "How do I share a OneDrive folder with a supplier?", at("2026-03-03 09:00"),
                           message_id="q1"))
    await chat.say(message("nina", "Share it from the web, choose 'specific people'.", at("2026-03-03 09:10"),
                           thread="q1"))  # nina posts and answers
    await chat.say(message("omar", "Hello everyone!", at("2026-03-03 10:00")))  # omar posts
    replies = await chat.say(command("fran", "stats", at("2026-03-04 09:00")))
    card = replies[0].card  # type: ignore[attr-defined]
    fields = dict(card.fields)
    assert fields["Newcomers, March 2026"] == "3 joined → 2 posted → 1 answered"
    assert fields["Newcomers, February 2026"] == "0 joined → 0 posted → 0 answered"
    preview = await chat.say(command("fran", "digest preview", at("2026-03-04 09:01")))
    sections = preview[0].card.sections  # type: ignore[attr-defined]
    assert "Newcomers in March 2026: 3 joined, 2 posted, 1 answered a question." in sections
    await chat.stop()
