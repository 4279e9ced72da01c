"""The portal's own durable facts: one-time sign-in links and the key that signs its session cookies.

A sign-in link carries a random token; only its SHA-256 is stored, so a copy of the database cannot sign anyone
in. A link works once and for a short time. The cookie key is made once and shared by every replica through
the database, so a session stays valid whichever process answers.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

SIGN_IN_TTL = timedelta(minutes=30)


class PortalSignIn(SQLModel, table=True):
    """A one-time sign-in link, by the hash of its token."""

    __tablename__ = "portal_sign_in"

    token_hash: str = Field(primary_key=True)
    workspace_id: str
    member_id: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PortalKey(SQLModel, table=True):
    """A named secret of the portal (the session cookie's signing key)."""

    __tablename__ = "portal_key"

    name: str = Field(primary_key=True)
    value: str


T_SIGN_IN = PortalSignIn.__table__  # type: ignore[attr-defined]
T_KEY = PortalKey.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SignedIn:
    workspace: str
    member: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_sign_in(
    db: AsyncEngine, workspace: str, member: str, *, now: datetime, ttl: timedelta = SIGN_IN_TTL
) -> str:
    """A new one-time token for the member; the caller puts it into a link."""
    token = secrets.token_urlsafe(32)
    async with db.begin() as conn:
        await conn.execute(
            T_SIGN_IN.insert().values(
                token_hash=_hash(token), workspace_id=workspace, member_id=member, created_at=now,
                expires_at=now + ttl,
            )
        )
    return token


async def peek_sign_in(db: AsyncEngine, token: str, *, now: datetime) -> SignedIn | None:
    """Whom the token would sign in, if it is unused and fresh (the confirmation page asks before using it)."""
    async with db.connect() as conn:
        row = (
            await conn.execute(
                select(T_SIGN_IN.c.workspace_id, T_SIGN_IN.c.member_id).where(
                    T_SIGN_IN.c.token_hash == _hash(token), T_SIGN_IN.c.used_at.is_(None),
                    T_SIGN_IN.c.expires_at > now,
                )
            )
        ).first()
    return SignedIn(row.workspace_id, row.member_id) if row else None


async def redeem_sign_in(db: AsyncEngine, token: str, *, now: datetime) -> SignedIn | None:
    """Use the token: whom it signs in, or None if it is unknown, used or expired. Exactly one caller wins."""
    async with db.begin() as conn:
        result = await conn.execute(
            update(T_SIGN_IN)
            .where(T_SIGN_IN.c.token_hash == _hash(token), T_SIGN_IN.c.used_at.is_(None), T_SIGN_IN.c.expires_at > now)
            .values(used_at=now)
            .returning(T_SIGN_IN.c.workspace_id, T_SIGN_IN.c.member_id)
        )
        row = result.first()
    return SignedIn(row.workspace_id, row.member_id) if row else None


async def session_key(db: AsyncEngine) -> str:
    """The cookie-signing key, made on first use and then the same for every process sharing the database."""
    async with db.connect() as conn:
        found = (await conn.execute(select(T_KEY.c.value).where(T_KEY.c.name == "session"))).scalar()
    if found:
        return str(found)
    try:
        async with db.begin() as conn:
            await conn.execute(T_KEY.insert().values(name="session", value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process made it first: use theirs
    async with db.connect() as conn:
        return str((await conn.execute(select(T_KEY.c.value).where(T_KEY.c.name == "session"))).scalar_one())
