"""Database URLs as people write them, the async engine, and migrations.

`sqlite:///data/steward.db` and `postgresql://user@host/db` are accepted as written; Steward picks the async
driver (aiosqlite, asyncpg) itself so nobody has to know SQLAlchemy's `+driver` spelling.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

logger = logging.getLogger(__name__)

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


class DatabaseURLError(ValueError):
    """The configured DATABASE_URL cannot be used."""


def async_url(url: str) -> URL:
    """Turn a user-written database URL into one with an async driver."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseURLError(f"DATABASE_URL is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise DatabaseURLError(f"DATABASE_URL uses '{backend}'; Steward supports sqlite and postgresql")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def redact(url: str | URL) -> str:
    """A URL safe for logs: the password never appears."""
    return make_url(str(url)).render_as_string(hide_password=True) if url else ""


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and its directory created."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        database = target.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
    engine = create_async_engine(target, **kwargs)
    if target.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def unavailable(exc: BaseException) -> bool:
    """Whether an error means the database did not answer (a restart, a dropped connection, a lock held too long)
    rather than that it refused a statement: work that met it is tried again later, not given up."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, (OperationalError, InterfaceError))
    return isinstance(exc, OSError)


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """INSERT for the connection's dialect, so ON CONFLICT (upserts, idempotent inserts) reads the same on both."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def process_owner() -> str:
    """Who this process is when it claims something (a digest, a lease): host, process and a random part, so
    two owners in one process differ too."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
