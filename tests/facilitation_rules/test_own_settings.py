"""A member's own quiet hours and time zone, as pure rules: what a member may type (English and German), what the
etiquette makes of it at the boundaries (a span across midnight, the days Berlin changes its clocks), and the
`/steward settings` decisions. No database, no engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.changes import Set, apply_all
from bot.commands import CommandRouter
from bot.core.actions import PostEphemeral
from bot.core.events import CommandInvoked
from bot.rules import Decision, RuleContext
from bot.settings import Settings
from bot.state import CommunityState, MemberState
from facilitation_rules import default_rules
from facilitation_rules.admin import FacilitatorCommands
from facilitation_rules.etiquette import member_zone, nudge_refusal, quiet_hours
from facilitation_rules.own_settings import ERASED, BadSetting, close_zones, own_settings, parse_quiet, parse_zone
from facilitation_rules.privacy import ForgetMe

WS = "slack:T1"
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


def settings() -> Settings:
    return Settings(_env_file=None, database_url="sqlite://", steward_timezone="Europe/Berlin")  # type: ignore[call-arg]


def view() -> CommunityState:
    state = CommunityState()
    state.workspace(WS).timezone = "Europe/Berlin"
    return state


def context(state: CommunityState, now: datetime = MONDAY) -> RuleContext:
    return RuleContext(now=now, settings=settings(), state=state)


def member(state: CommunityState, **values: object) -> MemberState:
    found = state.member(WS, "nina")
    for name, value in values.items():
        setattr(found, name, value)
    return found


def run(ctx: RuleContext, args: str, *, user: str = "nina", is_admin: bool = False) -> Decision:
    router = CommandRouter([FacilitatorCommands(), ForgetMe()])
    event = CommandInvoked(workspace=WS, at=ctx.now, channel="help", user=user, args=args, is_admin=is_admin)
    return router.dispatch(event, ctx)


def reply(decision: Decision) -> str:
    [said] = [item for item in decision if isinstance(item, PostEphemeral)]
    return said.text


# --- what a member may type -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "span"),
    [
        ("20-7", (20, 7)),
        ("20:00-07:00", (20, 7)),
        ("20 - 7", (20, 7)),
        ("22–6", (22, 6)),  # an en dash, as phones type it
        ("8 to 17", (8, 17)),
        ("22 bis 6", (22, 6)),
        ("0-8", (0, 8)),
        ("18-24", (18, 0)),  # 24 is midnight
        ("off", None),
        ("OFF", None),
        ("aus", None),
    ],
)
def test_quiet_hours_are_read_in_english_and_german(typed: str, span: tuple[int, int] | None) -> None:
    assert parse_quiet(typed) == span


@pytest.mark.parametrize("typed", ["20", "20-", "x-y", "25-3", "20-25", "7-7", "0-24", "20:30-7", "-1-5", "tonight"])
def test_a_span_that_is_not_one_gets_one_line_with_an_example(typed: str) -> None:
    with pytest.raises(BadSetting) as bad:
        parse_quiet(typed)
    english, german = bad.value.line("en"), bad.value.line("de")
    assert f"`{typed}`" in english and "`/steward settings quiet 20-7`" in english and "\n" not in english
    assert f"`{typed}`" in german and "verstehe ich nicht" in german and "`/steward settings quiet 20-7`" in german


def test_no_hours_at_all_asks_which() -> None:
    with pytest.raises(BadSetting) as bad:
        parse_quiet("  ")
    assert bad.value.line("en").startswith("Which hours?") and bad.value.line("de").startswith("Welche Stunden?")


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("America/New York", "America/New_York"),
        ("UTC", "UTC"),
        ("auto", None),
        ("Automatisch", None),
    ],
)
def test_time_zones_are_iana_names_in_any_case(typed: str, zone: str | None) -> None:
    assert parse_zone(typed) == zone


def test_an_unknown_zone_suggests_close_names_in_the_members_language() -> None:
    with pytest.raises(BadSetting) as bad:
        parse_zone("Europe/Berln")
    assert bad.value.suggestions[0] == "Europe/Berlin" and len(bad.value.suggestions) <= 3
    english, german = bad.value.line("en"), bad.value.line("de")
    assert english.startswith("`Europe/Berln` is not a time zone I know. Did you mean `Europe/Berlin`, ")
    assert ", or `" in english and " oder `" in german and german.startswith("`Europe/Berln` kenne ich nicht")
    assert close_zones("Berlin") == ("Europe/Berlin",), "a city named alone"
    assert close_zones("new york")[0] == "America/New_York"


@pytest.mark.parametrize("typed", ["Mars/Olympus_Mons", "localtime", "posixrules", "../../etc/passwd", "x" * 300])
def test_what_is_no_place_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(BadSetting) as bad:
        parse_zone(typed)
    line = bad.value.line("en")
    assert "is not a time zone I know" in line and "`/steward settings timezone Europe/Berlin`" in line
    assert len(line) < 300, "what was typed is quoted back short"


@given(st.text(max_size=60))
def test_whatever_is_typed_is_a_setting_or_one_clear_line(typed: str) -> None:
    for parse in (parse_quiet, parse_zone):
        try:
            parse(typed)
        except BadSetting as bad:
            for language in ("en", "de"):
                line = bad.line(language)
                assert line and "\n" not in line and not line.startswith("own_settings.")


# --- the etiquette at the boundaries ---------------------------------------------------------------------------
def test_own_quiet_hours_across_midnight_in_the_chosen_zone() -> None:
    state = view()
    nina = member(state, timezone="Europe/Berlin", chosen_timezone="Asia/Tokyo", quiet_start=22, quiet_end=6)
    assert member_zone(nina, context(state)) == "Asia/Tokyo", "her choice over the platform's"
    tokyo = {  # UTC+9, no daylight saving
        "2026-03-02 12:59": None,  # 21:59
        "2026-03-02 13:00": "quiet hours",  # 22:00
        "2026-03-02 14:59": "quiet hours",  # 23:59
        "2026-03-02 15:00": "quiet hours",  # 00:00, the next day
        "2026-03-02 20:59": "quiet hours",  # 05:59
        "2026-03-02 21:00": None,  # 06:00
    }
    for moment, refusal in tokyo.items():
        now = datetime.fromisoformat(moment).replace(tzinfo=UTC)
        assert nudge_refusal(nina, context(state, now)) == refusal, moment
    # 20:30 in Tokyo is quiet by the community's hours (20 to 8), not by hers.
    evening = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)
    assert nudge_refusal(nina, context(state, evening)) is None
    assert nudge_refusal(member(state, quiet_start=None, quiet_end=None), context(state, evening)) == "quiet hours"


@pytest.mark.parametrize(
    ("moment", "refusal"),
    [
        # The last Sunday of March: 02:00 CET becomes 03:00 CEST. Quiet 22 to 7 ends at 05:00 UTC that day...
        ("2026-03-29 04:59", "quiet hours"),  # 06:59 CEST
        ("2026-03-29 05:00", None),  # 07:00 CEST
        ("2026-03-29 00:59", "quiet hours"),  # 01:59 CET, just before the clocks jump
        ("2026-03-29 01:00", "quiet hours"),  # 03:00 CEST, just after
        # ... and at 06:00 UTC the day before.
        ("2026-03-28 05:59", "quiet hours"),  # 06:59 CET
        ("2026-03-28 06:00", None),  # 07:00 CET
        # The last Sunday of October: 03:00 CEST becomes 02:00 CET; quiet ends at 06:00 UTC from then on.
        ("2026-10-25 05:59", "quiet hours"),  # 06:59 CET
        ("2026-10-25 06:00", None),  # 07:00 CET
        ("2026-10-24 04:59", "quiet hours"),  # 06:59 CEST
        ("2026-10-24 05:00", None),  # 07:00 CEST
        ("2026-10-24 19:59", None),  # 21:59 CEST
        ("2026-10-24 20:00", "quiet hours"),  # 22:00 CEST
        ("2026-10-25 20:59", None),  # 21:59 CET
        ("2026-10-25 21:00", "quiet hours"),  # 22:00 CET
    ],
)
def test_own_quiet_hours_on_the_days_berlin_changes_its_clocks(moment: str, refusal: str | None) -> None:
    state = view()
    nina = member(state, chosen_timezone="Europe/Berlin", quiet_start=22, quiet_end=7)
    now = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    assert nudge_refusal(nina, context(state, now)) == refusal


def test_without_own_choices_the_platform_and_then_the_community_decide() -> None:
    state = view()
    nina = member(state)
    ctx = context(state)
    assert (member_zone(nina, ctx), quiet_hours(nina, ctx.settings)) == ("Europe/Berlin", (20, 8))
    nina.timezone = "America/Chicago"
    assert member_zone(nina, ctx) == "America/Chicago"
    found = own_settings(nina, ctx.settings, "Europe/Berlin", ctx.now)
    assert (found.timezone, found.timezone_from, found.quiet, found.quiet_from) == (
        "America/Chicago", "platform", (20, 8), "community")


# --- the command --------------------------------------------------------------------------------------------------
def test_a_member_sets_quiet_hours_and_a_time_zone_and_shows_them() -> None:
    state = view()
    member(state, timezone="Europe/Berlin")
    ctx = context(state)
    decision = run(ctx, "settings quiet 20-7")
    assert Set.member(WS, "nina", quiet_start=20, quiet_end=7) in decision
    assert reply(decision) == ("Saved: your quiet hours are 20:00–07:00 in your time zone (Europe/Berlin); "
                               "I won't nudge you then.")
    apply_all([c for c in decision if isinstance(c, Set)], state)

    decision = run(ctx, "settings timezone america/new_york")
    assert Set.member(WS, "nina", chosen_timezone="America/New_York") in decision
    assert reply(decision) == "Saved: your time zone is America/New_York; it is 03:00 there now."
    apply_all([c for c in decision if isinstance(c, Set)], state)

    shown = reply(run(ctx, "settings"))
    assert shown.splitlines() == [
        "Your own settings:",
        "• Quiet hours: 20:00–07:00 in your time zone (your own choice)",
        "• Time zone: America/New_York (your own choice)",
        "• Nudges: on, within your nudge budget",
        "Change them with `/steward settings quiet 20-7` (or `off`) and "
        "`/steward settings timezone Europe/Berlin` (or `auto`).",
    ]

    decision = run(ctx, "settings timezone auto")
    assert Set.member(WS, "nina", chosen_timezone=None) in decision
    assert reply(decision) == "Saved: your time zone is Europe/Berlin again (from Slack)."
    decision = run(ctx, "settings quiet off")
    assert Set.member(WS, "nina", quiet_start=None, quiet_end=None) in decision
    assert "the community's quiet hours apply to you again (20:00–08:00" in reply(decision)


def test_german_words_and_replies_for_a_german_member() -> None:
    state = view()
    member(state, language="de", muted_until=MONDAY + timedelta(days=3))
    ctx = context(state)
    decision = run(ctx, "settings ruhezeiten 22 bis 6")
    assert Set.member(WS, "nina", quiet_start=22, quiet_end=6) in decision
    assert reply(decision).startswith("Gespeichert: Deine Ruhezeiten sind 22:00–06:00 in deiner Zeitzone")
    apply_all([c for c in decision if isinstance(c, Set)], state)
    decision = run(ctx, "settings zeitzone Europe/Wien")
    assert not any(isinstance(c, Set) for c in decision), "nothing changes on bad input"
    assert reply(decision).startswith("`Europe/Wien` kenne ich nicht als Zeitzone. Meintest du `Europe/Vienna`")
    shown = reply(run(ctx, "settings")).splitlines()
    assert shown[0] == "Deine eigenen Einstellungen:"
    assert shown[1] == "• Ruhezeiten: 22:00–06:00 in deiner Zeitzone (deine eigene Wahl)"
    assert shown[2] == "• Zeitzone: Europe/Berlin (die der Community)", "Steward knows no zone of hers"
    assert shown[3] == "• Erinnerungen: stummgeschaltet bis 5. März 2026, 09:00"
    assert shown[4] == "• Sprache: Deutsch (von Slack)"
    assert reply(run(ctx, "settings ruhezeiten bald")).startswith("`bald` verstehe ich nicht")


def test_bad_input_is_one_line_and_changes_nothing() -> None:
    state = view()
    ctx = context(state)
    for args, start in [("settings quiet 25-3", "`25-3` is not a span of whole hours"),
                        ("settings quiet", "Which hours?"),
                        ("settings timezone Mars/Olympus_Mons", "`Mars/Olympus_Mons` is not a time zone I know"),
                        ("settings timezone", "Which time zone?"),
                        ("settings frobnicate", "Your own settings: `/steward settings` shows them")]:
        decision = run(ctx, args)
        assert len(decision) == 1 and reply(decision).startswith(start), args
        assert "\n" not in reply(decision)


def test_the_channels_settings_stay_the_facilitators() -> None:
    state = view()
    ctx = context(state)
    refused = reply(run(ctx, "settings language de"))
    assert refused.startswith("Sorry, `/steward settings` is for facilitators only")
    assert "language" not in state.channel(WS, "help").settings
    saved = run(ctx, "settings language de", user="fran", is_admin=True)
    assert reply(saved) == "Saved: language = de for <#help>."
    apply_all([c for c in saved if isinstance(c, Set)], state)
    both = reply(run(ctx, "settings", user="fran", is_admin=True))
    assert both.startswith("Settings for <#help>: facilitated: yes; answer time: 4 working hours; language: de.")
    assert "\n\nYour own settings:\n• Quiet hours: 20:00–08:00 in your time zone (the community's)" in both
    assert reply(run(ctx, "settings quiet 21-6", user="fran", is_admin=True)).startswith("Saved: your quiet hours")


def test_forget_me_erases_the_own_settings() -> None:
    state = view()
    member(state, quiet_start=21, quiet_end=6, chosen_timezone="Asia/Tokyo")
    ctx = context(state)
    decision = run(ctx, "forget me")
    apply_all([c for c in decision if isinstance(c, Set)], state)
    nina = state.member(WS, "nina")
    assert (nina.quiet_start, nina.quiet_end, nina.chosen_timezone) == (None, None, None)
    assert set(ERASED) == {"quiet_start", "quiet_end", "chosen_timezone"}


def test_help_explains_the_split() -> None:
    state = view()
    ctx = context(state)
    router = CommandRouter(default_rules(ctx.settings))
    event = CommandInvoked(workspace=WS, at=MONDAY, channel="help", user="nina", args="help")
    [help_reply] = router.dispatch(event, ctx)
    assert isinstance(help_reply, PostEphemeral) and help_reply.card is not None
    [line] = [s for s in help_reply.card.sections if s.startswith("`/steward settings ")]
    assert line.startswith("`/steward settings [quiet 20-7|off | timezone ZONE|auto | answer_time HOURS | "
                           "language en|de]` Your own quiet hours and time zone")
    assert "Facilitators also set this channel's answer_time and language here." in line
    assert not line.endswith("(facilitators)"), "everyone may use it"
