"""Member text quoted in Steward's own messages can never broadcast, mention someone or disguise a link.

`<!channel>`, `<!here>`, `<!everyone>`, Discord's `@everyone`/`@here`, user/group/role mentions and labelled
links in a member's question come out of `excerpt` as inert text, also when nested or written adversarially;
and through the engine, the escalation, the experts' nudges, `/steward unanswered` and the
facilitators' "stuck" message all quote a hostile question without its markup.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app.replay import run_due_work
from bot.core.actions import Action
from bot.core.markup import ZERO_WIDTH_SPACE, defuse, excerpt
from bot.settings import Settings
from tests.support import at, command, community, message

# What would make Steward's message do something its author did not write into it.
DANGER = {
    "special mention": re.compile(r"<![^<>]*>"),
    "user, group or role mention": re.compile(r"<@[^<>]*>"),
    "labelled link": re.compile(r"<(?:[a-z][a-z0-9+.-]*:)[^<>]*\|[^<>]*>", re.IGNORECASE),
    "masked link": re.compile(r"\[[^\[\]]*\]\(\s*<?[a-z][a-z0-9+.-]*:[^()]*\)", re.IGNORECASE),
    "broadcast": re.compile(r"@(?:everyone|here|channel)", re.IGNORECASE),
}


def dangers(text: str) -> list[str]:
    return [name for name, pattern in DANGER.items() if pattern.search(text)]


@pytest.mark.parametrize(("hostile", "quoted"), [
    ("<!channel> free pizza in the kitchen", f"@{ZERO_WIDTH_SPACE}channel free pizza in the kitchen"),
    ("<!here|here> <!everyone>", f"@{ZERO_WIDTH_SPACE}here @{ZERO_WIDTH_SPACE}everyone"),
    ("@everyone and @here, look", f"@{ZERO_WIDTH_SPACE}everyone and @{ZERO_WIDTH_SPACE}here, look"),
    ("<@U0BOSS> approve this", "@U0BOSS approve this"),
    ("<@U0BOSS|boss> approve this", "@boss approve this"),
    ("<@!123456> and <@&987> role", "@123456 and @987 role"),
    ("<!subteam^S1|@it-team> please", f"@{ZERO_WIDTH_SPACE}it-team please"),
    ("<https://evil.example/login|https://intranet.example/sso>",
     "https://intranet.example/sso (https://evil.example/login)"),
    ("<https://evil.example|Password reset>", "Password reset (https://evil.example)"),
    ("[Password reset](https://evil.example)", "Password reset (https://evil.example)"),
    ("[https://good.example](<https://evil.example>)", "https://good.example (https://evil.example)"),
    ("<<!channel>!channel>", f"@{ZERO_WIDTH_SPACE}channel!channel"),
    ("<https://x.example|<!here>>", f"@{ZERO_WIDTH_SPACE}here (https://x.example)"),
    ("<@U1|@everyone>", f"@{ZERO_WIDTH_SPACE}everyone"),
    ("<@|>everyone", f"@{ZERO_WIDTH_SPACE}everyone"),
    ("<!date^1392734382^{date}|Feb 18> meeting", "Feb 18 meeting"),
    ("see <https://wiki.example/vpn>", "see https://wiki.example/vpn"),
    ("in <#C0HELP|help> or <#C0OPS>", "in <#C0HELP|help> or <#C0OPS>"),  # a channel link notifies nobody
    ("if a < b and c > d", "if a < b and c > d"),
])
def test_excerpt_quotes_markup_as_inert_text(hostile: str, quoted: str) -> None:
    assert excerpt(hostile) == quoted
    assert dangers(excerpt(hostile)) == []


def test_deep_nesting_is_flattened_in_linear_time() -> None:
    hostile = "<!" * 20_000 + "here" + ">" * 20_000
    assert dangers(defuse(hostile)) == []
    assert "<" not in defuse(hostile)


PIECES = st.sampled_from(["<", ">", "!", "@", "|", "[", "]", "(", ")", "^", "&", " ", "here", "channel",
                          "everyone", "Everyone", "HERE", "https://evil.example", "mailto:x@y.z", "U1", "subteam",
                          "#C1", ZERO_WIDTH_SPACE, "label", ":", "/", "\n"])


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.lists(PIECES, max_size=40).map("".join), st.text(max_size=200)))
def test_nothing_dangerous_survives_quoting(text: str) -> None:
    assert dangers(defuse(text)) == [], repr(defuse(text))
    assert dangers(excerpt(text, 120)) == [], repr(excerpt(text, 120))


STEWARDS_OWN_MENTIONS = re.compile(r"<@(?:tom|bob|ana|carol)>")
HOSTILE = ("<!channel> <!here> @everyone <@U0BOSS> quick one: how do I get VPN access? The form at "
           "<https://evil.example/login|https://intranet.example/vpn> and [the wiki](https://evil.example/wiki) "
           "both fail")


def texts_of(action: Action) -> list[str]:
    """Every text a platform would show for an action: its text, and its card's title, sections and fields."""
    texts = [str(getattr(action, "text", "") or "")]
    card = getattr(action, "card", None)
    if card is not None:
        texts += [card.title or "", *card.sections, *(f"{k} {v}" for k, v in card.fields), card.footer or ""]
    return texts


async def test_flags_escalations_nudges_and_replies_quote_a_hostile_question_inertly(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 07:00"))  # 08:00 in Berlin, a Monday
    seen: list[Action] = []
    engine.observers.append(lambda event, actions, ctx: seen.extend(actions))
    try:
        # bob answered a VPN question last week: he is the expert to nudge.
        await engine.handle(message("carol", "How do I request VPN access for a new laptop?", at("2026-02-23 09:00"),
                                    message_id="old"))
        await engine.handle(message("bob", "Request VPN access in the service portal, under Network.",
                                    at("2026-02-23 09:10"), thread="old"))
        engine.clock.set(at("2026-03-02 08:00"))  # type: ignore[attr-defined]
        await engine.handle(message("tom", HOSTILE, at("2026-03-02 08:00"), message_id="q"))
        assert engine.state.question("console:test", "q") is not None, "the hostile text is a question"
        await run_due_work(engine, until=at("2026-03-03 16:00"))  # flagged, experts nudged, escalated
        replies = await engine.handle(command("ana", "unanswered", at("2026-03-03 16:01")))
        replies += await engine.handle(command("tom", "stuck", at("2026-03-03 16:02"), thread="q"))
        shown = [(type(a).__name__, key, text) for a in [*seen, *replies] for key in [a.key] for text in texts_of(a)]
        quoting = [(kind, key, text) for kind, key, text in shown if "VPN access?" in text]
        kinds = {key.split(":")[0] for _, key, _ in quoting}
        assert {"nudge", "escalate", "stuck-call", "reply"} <= kinds, f"quoted by: {sorted(kinds)}"
        for kind, key, text in shown:
            own = STEWARDS_OWN_MENTIONS.sub("", text)  # Steward names the asker and experts on purpose
            assert dangers(own) == [], f"{kind} {key}: {text!r}"
            assert "U0BOSS>" not in text
            assert "evil.example/login" not in text or "(https://evil.example/login)" in text
    finally:
        await engine.db.dispose()


def test_a_lesson_card_quotes_thread_text_without_mentioning_anyone() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from bot.rules import RuleContext
    from bot.settings import Settings
    from bot.state import CommunityState
    from facilitation_rules.lessons import lesson_card

    lesson = SimpleNamespace(
        id=1, source_message_id="t", channel_id="help", title="<!channel> read this", summary="Ask <@U1|ana> first",
        solution="Use <https://evil.example|the portal>", steps=["@everyone: restart"], tips=["<!here> tip"],
        tags=["vpn"], contributors=["U2"], permalink="https://example.org/t",
    )
    ctx = RuleContext(now=datetime(2026, 3, 2, tzinfo=UTC), settings=Settings(_env_file=None),  # type: ignore[call-arg]
                      state=CommunityState())
    card = lesson_card(lesson, ctx, "w")  # type: ignore[arg-type]
    shown = "\n".join([card.title, *card.sections])
    for broadcast in ("<!channel>", "<!here>", "@everyone", "<@U1", "|the portal>"):
        assert broadcast not in shown
    assert "<@U2>" in "\n".join(v for _, v in card.fields), "contributors are Steward's own mention: kept"
