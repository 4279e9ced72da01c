"""The portal over a copy of the sample community, through Starlette's TestClient, signed in by real links."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from adapters.web.app import create_app
from bot.settings import Settings
from storage.db import create_engine
from storage.portal import issue_sign_in
from tests.conftest import make_settings
from tests.web.community import WORKSPACE, build, copy_of


@pytest.fixture(scope="session")
def built_community(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("portal"))


@pytest.fixture
def portal_settings(built_community: Path, tmp_path: Path) -> Settings:
    return make_settings(copy_of(built_community, tmp_path), steward_timezone="Europe/Berlin")


async def issue_token(settings: Settings, member: str, workspace: str = WORKSPACE) -> str:
    db = create_engine(settings.database_url)
    try:
        return await issue_sign_in(db, workspace, member, now=datetime.now(UTC))
    finally:
        await db.dispose()


def sign_in_token(settings: Settings, member: str, workspace: str = WORKSPACE) -> str:
    return asyncio.run(issue_token(settings, member, workspace))


def form_token(html: str) -> str:
    """The CSRF token of the first form on the page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, settings: Settings, member: str) -> None:
    token = sign_in_token(settings, member)
    page = client.get(f"/signin/{token}")
    assert page.status_code == 200
    done = client.post(f"/signin/{token}", data={"csrf": form_token(page.text)}, follow_redirects=False)
    assert done.status_code == 303, done.text


@pytest.fixture
def portal(portal_settings: Settings) -> Iterator[Callable[[str | None], TestClient]]:
    """`portal(member)`: a client signed in as the member (None: not signed in)."""
    clients: list[TestClient] = []

    def client_for(member: str | None) -> TestClient:
        client = TestClient(create_app(portal_settings), headers={"accept-language": "en"})
        client.__enter__()
        clients.append(client)
        if member is not None:
            sign_in(client, portal_settings, member)
        return client

    yield client_for
    for client in clients:
        client.__exit__(None, None, None)
