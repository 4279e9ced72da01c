"""The shell's side of errands: the slow I/O a rule leaves behind (a store query, a distillation, an LLM call).

A rule stays a plain function of the event and the working set; when it needs the database's figures, the
knowledge store or a model, it returns an `Errand` (bot.rules). The engine hands each errand to the handler
registered for its type, right after the rule, and treats what comes back like the rule's own decision.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.rules import Decision, Errand, RuleContext
from storage.db import unavailable

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Errand)
Handler = Callable[[Any, RuleContext], Awaitable[Decision]]


class Errands:
    """Errand type -> the coroutine that runs it."""

    def __init__(self) -> None:
        self._handlers: dict[type[Errand], Handler] = {}

    def register(self, kind: type[E], handler: Callable[[E, RuleContext], Awaitable[Decision]]) -> None:
        self._handlers[kind] = handler

    async def run(self, errand: Errand, ctx: RuleContext) -> Decision:
        """The errand's outcome; its `unserved` decision when nothing handles it or its handler fails.

        A database that stopped answering midway (its driver says so) is not the errand's failure: that is raised,
        so the whole event is tried again once the database answers (the engine drops what the event decided so
        far). Other errors, a refused connection among them, give the unserved decision; a database that is away
        then fails the event's own write as well, and the event is tried again all the same."""
        handler = self._handlers.get(type(errand))
        if handler is None:
            logger.debug("no handler for %s", type(errand).__name__)
            return errand.unserved(ctx)
        try:
            return await handler(errand, ctx)
        except Exception as exc:
            if unavailable(exc) and not isinstance(exc, OSError):
                raise
            logger.exception("errand %s failed", type(errand).__name__)
            return errand.unserved(ctx)
