"""Serving the portal with uvicorn: on its own (`steward web`) or beside the platforms (`steward run`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator

import uvicorn

from adapters.web.app import create_app
from adapters.web.pages import EventSink
from bot.app.errands.portal import portal_address
from bot.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8080


def base_url(settings: Settings) -> str:
    """Where members reach the portal: WEB_BASE_URL, else the address it listens on."""
    return portal_address(settings.web_base_url, settings.web_host, settings.web_port)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process that embeds it decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def server(settings: Settings, *, embedded: bool = False, events: EventSink | None = None) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings, events=events), host=settings.web_host, port=settings.web_port or DEFAULT_PORT,
        log_level="warning", access_log=False, lifespan="on", server_header=False,
        log_config=None,  # uvicorn's lines go through Steward's logging (LOG_FORMAT), not a format of its own
    )
    return (_EmbeddedServer if embedded else uvicorn.Server)(config)


async def serve_until(settings: Settings, stop: asyncio.Event, events: EventSink | None = None) -> None:
    """The portal beside the platforms until `stop` is set; members' commands from it go to `events`."""
    web = server(settings, embedded=True, events=events)
    task = asyncio.create_task(web.serve())
    logger.info("the portal is at %s", base_url(settings))
    try:
        await stop.wait()
    finally:
        web.should_exit = True
        await task
