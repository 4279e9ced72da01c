"""The portal in a real browser: Playwright drives Debian's Chromium as a member and as a facilitator.

Screenshots of every page land in tests/artifacts/ on every run. Without Chromium the test is skipped, unless
STEWARD_REQUIRE_BROWSER is set (CI sets it, so a missing browser fails there instead of passing quietly).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from adapters.web.app import create_app
from bot.settings import Settings
from tests.web.community import FACILITATOR, MEMBER
from tests.web.conftest import issue_token

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def chromium() -> str:
    found = os.environ.get("STEWARD_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("STEWARD_REQUIRE_BROWSER"):
            raise RuntimeError("Chromium is required (STEWARD_REQUIRE_BROWSER) but not installed")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def site(portal_settings: Settings) -> AsyncIterator[str]:
    """The portal served by uvicorn on a loopback port, in this test's event loop."""
    port = free_port()
    config = uvicorn.Config(create_app(portal_settings), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the portal started"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_a_member_and_a_facilitator_use_the_portal(site: str, portal_settings: Settings) -> None:
    from playwright.async_api import async_playwright, expect

    executable = chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            # A member on a phone: sign in, search the lessons, open one.
            phone = await browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
            page = await phone.new_page()
            await page.goto(f"{site}/signin/{await issue_token(portal_settings, MEMBER)}")
            await expect(page.get_by_text("Sign in to the portal as Elif Yılmaz?")).to_be_visible()
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("heading", name="Acme Wandel")).to_be_visible()
            await page.screenshot(path=ARTIFACTS / "overview-member-phone.png", full_page=True)
            await page.get_by_role("link", name="Lessons").first.click()
            await page.get_by_label("Search the lessons").fill("OneDrive sync")
            await page.get_by_role("button", name="Search").click()
            await page.get_by_role("link", name="Half of the finance team gets OneDrive sync errors").click()
            await expect(page.get_by_role("heading", name="What worked")).to_be_visible()
            await expect(page.get_by_text("Curate this lesson")).to_have_count(0)
            await page.screenshot(path=ARTIFACTS / "lesson-member-phone.png", full_page=True)
            await page.get_by_role("link", name="Open questions").click()
            await expect(page.get_by_role("heading", name="Questions still waiting for an answer")).to_be_visible()
            await page.screenshot(path=ARTIFACTS / "questions.png", full_page=True)
            # Her own nudge settings, read-only without Steward beside the portal: changed in chat.
            await page.get_by_role("link", name="My page").click()
            await expect(page.get_by_role("heading", name="My nudge settings")).to_be_visible()
            await expect(page.get_by_text("20:00–08:00 (the community's)")).to_be_visible()
            await expect(page.get_by_text("/steward settings quiet 20-7")).to_be_visible()
            await page.screenshot(path=ARTIFACTS / "me-member-phone.png", full_page=True)

            # A facilitator at a desk: health, a lesson edited, then everything in German.
            desk = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US")
            page = await desk.new_page()
            await page.goto(f"{site}/signin/{await issue_token(portal_settings, FACILITATOR)}")
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_role("link", name="Health").click()
            await expect(page.locator("figure.chart svg")).to_have_count(3)
            await expect(page.get_by_role("columnheader", name="Answerer concentration")).to_be_visible()
            await page.screenshot(path=ARTIFACTS / "health.png", full_page=True)
            await page.get_by_role("link", name="Lessons").first.click()
            await page.get_by_role("link", name="Half of the finance team gets OneDrive sync errors").click()
            await page.get_by_label("Title").fill("OneDrive sync errors after the SharePoint move")
            await page.locator("form:has(#title)").get_by_role("button", name="Save").click()
            await expect(page.get_by_role("status")).to_have_text("The title is saved.")
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "OneDrive sync errors after the SharePoint move"
            )
            await page.screenshot(path=ARTIFACTS / "lesson-facilitator.png", full_page=True)
            await page.get_by_role("button", name="Deutsch").click()
            await expect(page.get_by_role("heading", name="Diese Lektion pflegen")).to_be_visible()
            await page.get_by_role("link", name="Gesundheit").click()
            await expect(page.get_by_role("columnheader", name="Konzentration der Antwortenden")).to_be_visible()
            await page.screenshot(path=ARTIFACTS / "health-de.png", full_page=True)
            await page.get_by_role("link", name="Rückblicke").click()
            digest = page.get_by_role("heading", name="Wochenrückblick für #wandel-de, 2.–9. März 2026")
            await expect(digest).to_be_visible()
            await page.screenshot(path=ARTIFACTS / "digests-de.png", full_page=True)
        finally:
            await browser.close()
