"""`steward member …`: act on a member's request received outside chat (a mail to the operators, a ticket)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.cli_support import fail, load_settings, setup_logging
from bot.settings import Settings

logger = logging.getLogger(__name__)

member_app = typer.Typer(help="Act on a member's request.", no_args_is_help=True)


@member_app.command("forget")
def forget(
    member: Annotated[str, typer.Argument(help="The member's platform id (e.g. U024BE7LH).")],
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="Workspace id (e.g. slack:T123); needed if the id is in several.")
    ] = None,
) -> None:
    """Forget a member exactly as `/steward forget me` does: their texts, expertise and nudges go."""
    settings = load_settings()
    setup_logging(settings.log_level)
    try:
        where = asyncio.run(_forget(settings, member, workspace))
    except LookupError as exc:
        fail(str(exc))
    typer.echo(f"forgot member {member} in {where}")


async def _forget(settings: Settings, member: str, workspace: str | None) -> str:
    from bot.app.wiring import build_engine
    from bot.core.clock import SimulatedClock
    from bot.core.events import CommandInvoked

    engine = await build_engine(settings, SimulatedClock(datetime.now(UTC)))
    try:
        known = sorted(ws for ws, mid in engine.state.members if mid == member and (workspace in (None, ws)))
        if not known:
            raise LookupError(f"no member {member}" + (f" in {workspace}" if workspace else "") + " in the database")
        if len(known) > 1:
            raise LookupError(f"member {member} is in {', '.join(known)}: name one with --workspace")
        await engine.handle(
            CommandInvoked(workspace=known[0], at=engine.clock.now(), channel="", user=member, args="forget me")
        )
        await engine.flush()
        return known[0]
    finally:
        await engine.close()
