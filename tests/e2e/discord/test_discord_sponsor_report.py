"""The sponsor report's post on Discord: the real discord.py client sends the summary with the HTML report as
an attachment, to a channel named in SPONSOR_REPORT_CHANNEL."""

from __future__ import annotations

from bot.core.actions import PostFile
from tests.e2e.discord.test_discord_e2e import HELP, WS, World, world  # noqa: F401  (the fixture)


async def test_the_report_is_attached_to_its_summary(world: World) -> None:  # noqa: F811
    html = "<!doctype html><h1>Sponsor report: Wandel, März 2026</h1>"
    action = PostFile(key="sponsor-report:2026-03", workspace=WS, channel="help", text="The sponsor report for März.",
                      filename="sponsor-report-2026-03.html", content=html, title="Sponsor report")

    async def no_refs(workspace: str, key: str) -> str | None:
        return None

    ref = await world.adapter.sender.send(action, no_refs)
    [posted] = [m for m in world.fake.messages.values() if m["channel_id"] == HELP]
    assert ref == f"{HELP}/{posted['id']}"
    assert posted["content"] == "The sponsor report for März."
    assert [a["filename"] for a in posted["attachments"]] == ["sponsor-report-2026-03.html"]
    [attached] = world.fake.attached[posted["id"]]
    assert attached["content"] == html.encode("utf-8")
