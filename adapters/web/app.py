"""The portal as an ASGI app: Starlette routes, Jinja2 templates, sessions, and the database it reads."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from adapters.web import decisions, ideas, initiatives, oauth, pages, skills
from adapters.web import paths as path_pages
from adapters.web.cache import TimedCache
from adapters.web.security import SecureHeaders, Sessions
from bot.settings import Settings
from storage.db import create_engine
from storage.lessons import LessonStore
from storage.migrate import upgrade
from storage.portal import session_key

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent


def templates() -> Environment:
    """Autoescaping HTML templates with the i18n extension: `_` and `ngettext` come from each page's `Texts`."""
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html.j2"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )


async def _error(request: Request, exc: Exception) -> Response:
    """Errors as pages in the reader's language; 401 says how to sign in."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status >= 500:
        logger.error("portal: %s %s failed: %s", request.method, request.url.path, type(exc).__name__)
    key = {401: "portal.sign_in_needed", 403: "portal.forbidden", 404: "portal.not_found", 400: "portal.bad_request"}
    return pages.render(request, "message.html.j2", None, status=status,
                        message_key=key.get(status, "portal.failed"))


def create_app(
    settings: Settings, db: AsyncEngine | None = None, events: pages.EventSink | None = None
) -> Starlette:
    """The portal over `settings.database_url` (or the given engine, which then stays the caller's to close).

    `events`: where members' own commands go (mute, unmute, forget me): Steward's engine when the portal runs
    beside it; without it those settings are changed in chat."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = db is None
        if own:
            await upgrade(settings.database_url)
        engine = db or create_engine(settings.database_url)
        app.state.db = engine
        app.state.lessons = LessonStore(engine)
        app.state.session_key = await session_key(engine)
        try:
            yield
        finally:
            if own:
                await engine.dispose()

    routes = [
        Route("/healthz", pages.healthz),
        Route("/signin", oauth.sign_in_options),
        Route("/signin/slack", oauth.slack_start),
        Route("/signin/slack/callback", oauth.slack_callback),
        Route("/signin/discord", oauth.discord_start),
        Route("/signin/discord/callback", oauth.discord_callback),
        Route("/signin/choose", oauth.choose_community, methods=["POST"]),
        Route("/signin/{token}", pages.sign_in_page, methods=["GET"]),
        Route("/signin/{token}", pages.sign_in, methods=["POST"]),
        Route("/signout", pages.sign_out, methods=["POST"]),
        Route("/language", pages.choose_language, methods=["POST"]),
        Route("/", pages.overview),
        Route("/lessons", pages.lessons_page),
        Route("/lessons/export.json", pages.lessons_json),
        Route("/lessons/{lesson_id}/export.md", pages.lesson_markdown),
        Route("/lessons/{lesson_id}", pages.lesson_page, methods=["GET"]),
        Route("/lessons/{lesson_id}", pages.lesson_action, methods=["POST"]),
        Route("/questions", pages.questions_page),
        Route("/decisions", decisions.decisions_page),
        Route("/decisions/export.json", decisions.decisions_json),
        Route("/decisions/{decision_id}/export.md", decisions.decision_markdown),
        Route("/decisions/{decision_id}", decisions.decision_page),
        Route("/ideas", ideas.ideas_page),
        Route("/initiatives", initiatives.initiatives_page),
        Route("/paths", path_pages.paths_page),
        Route("/paths/{name}", path_pages.path_page),
        Route("/health", pages.health_page),
        Route("/digests", pages.digests_page),
        Route("/skills", skills.skills_page),
        Route("/me", pages.me_page, methods=["GET"]),
        Route("/me", pages.me_action, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecureHeaders), Middleware(Sessions, https_only=settings.web_secure_cookies)],
        exception_handlers={HTTPException: _error, Exception: _error},
    )
    app.state.settings = settings
    app.state.templates = templates()
    app.state.events = events
    app.state.health_cache = TimedCache()
    app.state.tag_cache = TimedCache()
    return app
