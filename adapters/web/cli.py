"""`steward web`: serve the portal, and `steward web login` for a sign-in link without chat."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

web_app = typer.Typer(help="The web portal: lessons, open questions, health and digests.")


@web_app.callback(invoke_without_command=True)
def web(
    context: typer.Context,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default WEB_PORT, else 8080).")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default WEB_HOST).")] = None,
) -> None:
    """Serve the portal over Steward's database (DATABASE_URL) until Ctrl+C."""
    if context.invoked_subcommand is not None:
        return
    from adapters.web.server import base_url, server
    from bot.cli_support import load_settings, setup_logging

    settings = load_settings()
    settings = settings.model_copy(update={k: v for k, v in (("web_port", port), ("web_host", host)) if v})
    setup_logging(settings.log_level)
    typer.echo(f"The portal is at {base_url(settings)} (Ctrl+C stops it).")
    typer.echo("Sign in with a link from `/steward portal` in chat, or `steward web login --as MEMBER`.")
    server(settings).run()


@web_app.command("login")
def login(
    member: Annotated[str, typer.Option("--as", help="The member id to sign in as, e.g. U01ANNA.")],
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="The community, e.g. slack:T123 (needed if there are several).")
    ] = None,
) -> None:
    """Print a one-time sign-in link for a member (for operators, and the local demo)."""
    from adapters.web.server import base_url
    from bot.cli_support import fail, load_settings, setup_logging

    settings = load_settings()
    setup_logging("WARNING")
    try:
        link = asyncio.run(_link(settings, member, workspace))
    except LookupError as exc:
        fail(str(exc))
    typer.echo(f"{base_url(settings)}{link}")


async def _link(settings: object, member: str, workspace: str | None) -> str:
    from sqlalchemy import select

    from bot.settings import Settings
    from storage.db import create_engine
    from storage.migrate import upgrade
    from storage.portal import issue_sign_in
    from storage.repository import T_MEMBER

    assert isinstance(settings, Settings)
    await upgrade(settings.database_url)
    db = create_engine(settings.database_url)
    try:
        async with db.connect() as conn:
            stmt = select(T_MEMBER.c.workspace_id).where(T_MEMBER.c.id == member, T_MEMBER.c.is_bot.is_(False))
            if workspace:
                stmt = stmt.where(T_MEMBER.c.workspace_id == workspace)
            found = sorted(set((await conn.execute(stmt)).scalars()))
        if not found:
            raise LookupError(f"no member {member}" + (f" in {workspace}" if workspace else "") + " in the database")
        if len(found) > 1:
            raise LookupError(f"{member} is in {', '.join(found)}: choose one with --workspace")
        token = await issue_sign_in(db, found[0], member, now=datetime.now(UTC))
    finally:
        await db.dispose()
    return f"/signin/{token}"
