"""The console adapter: a conversation typed in a terminal, Steward's answers printed."""

from __future__ import annotations

from adapters.console.adapter import ConsoleSession
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.settings import Settings
from tests.support import at


async def test_a_console_conversation_with_a_flag_a_reaction_and_commands(settings: Settings) -> None:
    clock = SimulatedClock(at("2026-03-02 08:00"))  # Monday 09:00 in Berlin
    engine = await build_engine(settings, clock)
    engine.state.workspace("console:demo").timezone = "Europe/Berlin"
    printed: list[str] = []
    session = ConsoleSession(engine, clock, printed.append)
    for line in [
        "/as nina",
        "/in help",
        "How do I request a Teams guest account for a supplier?",
        "/advance 5h",
    ]:
        assert await session.handle_line(line)
    output = "\n".join(printed)
    assert "[1] #help nina: How do I request" in output
    assert "post in #help (thread [1])" in output and "[I'll take it]" in output, output

    printed.clear()
    await session.handle_line("/as marc")
    await session.handle_line("/reply 1 Use the guest request form in the self-service portal.")
    await session.handle_line("/as nina")
    await session.handle_line("/react 2 white_check_mark")
    question = engine.state.question("console:demo", session.numbers[0])
    assert question is not None and question.first_responder_id == "marc" and question.resolved

    printed.clear()
    await session.handle_line("/steward help")
    await session.handle_line("/react 9 bulb")
    await session.handle_line("/advance soon")
    await session.handle_line("/frobnicate")
    output = "\n".join(printed)
    assert "private reply to @nina" in output and "/steward mute" in output
    assert "there is no message [9]" in output
    assert "not a duration" in output
    assert "unknown console command" in output
    assert not await session.handle_line("/quit")
    await engine.db.dispose()


def test_the_console_clock_starts_in_working_hours(settings: Settings) -> None:
    from bot.runner import console_start

    # Saturday 22:24 in Berlin: the console starts on Monday at 09:00 (08:00 UTC).
    assert console_start(settings, at("2026-11-28 21:24")) == at("2026-11-30 08:00")
    assert console_start(settings, at("2026-12-01 10:30")) == at("2026-12-01 10:30")


def test_times_are_shown_in_the_communitys_zone_and_language() -> None:
    from datetime import UTC, datetime

    from adapters.console.render import local_time

    moment = datetime(2026, 3, 2, 8, 14, tzinfo=UTC)
    assert local_time(moment, "Europe/Berlin", "en") == "Mon 02 Mar 09:14"
    assert local_time(moment, "Europe/Berlin", "de").startswith("Mo.") and local_time(moment, "UTC").endswith("08:14")
