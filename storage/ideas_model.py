"""The tables of ideas (with their votes) and initiatives (with the decisions, ideas and commitments they group).

Every row an errand writes carries the key of the event that wrote it (`origin`), so an event handled again
after a crash finds its row instead of writing a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Idea(SQLModel, table=True):
    """A member's idea: proposed, accepted, in progress, done or declined (with a reason)."""

    __tablename__ = "idea"
    __table_args__ = (
        UniqueConstraint("workspace_id", "origin", name="uq_idea_origin"),
        Index("ix_idea_status", "workspace_id", "status"),
        {"sqlite_autoincrement": True},  # an id is never reused: buttons and commands name it
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    channel_id: str
    origin: str  # the command that proposed it
    text: str
    author_id: str | None = None  # None once the author asked to be forgotten
    language: str = "en"
    private: bool = False
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = "proposed"
    reason: str = ""
    status_by: str | None = None
    status_at: datetime | None = _utc()
    status_origin: str = ""  # the event that moved it last (the same event moves it once)
    card_key: str = ""  # the outbox key of its card (updates name it, reactions find it through it)
    revision: int = 0  # every change the card shows counts it up
    comments: int = 0
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IdeaVote(SQLModel, table=True):
    """A member supports an idea: one row per member and idea."""

    __tablename__ = "idea_vote"
    __table_args__ = (UniqueConstraint("workspace_id", "idea_id", "member_id", name="uq_idea_vote"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    idea_id: int
    member_id: str
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    origin: str  # the click or reaction that cast it


class Initiative(SQLModel, table=True):
    """A named plan a facilitator started, to follow decisions, ideas and commitments together."""

    __tablename__ = "initiative"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name_key", name="uq_initiative_name"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    name: str
    name_key: str  # the name as it is looked up: case-folded
    goal: str = ""
    channel_id: str
    created_by: str | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = "active"


class InitiativeItem(SQLModel, table=True):
    """A decision, idea or commitment an initiative groups; each at most once per initiative."""

    __tablename__ = "initiative_item"
    __table_args__ = (
        UniqueConstraint("workspace_id", "initiative_id", "kind", "item_id", name="uq_initiative_item"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    initiative_id: int
    kind: str  # decision | idea | commitment
    item_id: int
    added_by: str | None = None
    added_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


T_IDEA: Table = Idea.__table__  # type: ignore[attr-defined]
T_IDEA_VOTE: Table = IdeaVote.__table__  # type: ignore[attr-defined]
T_INITIATIVE: Table = Initiative.__table__  # type: ignore[attr-defined]
T_INITIATIVE_ITEM: Table = InitiativeItem.__table__  # type: ignore[attr-defined]
