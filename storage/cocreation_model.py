"""The co-creation tables: decisions with their votes and offers, and members' commitments.

Every row a rule's errand writes carries the key of the event that wrote it (`origin`), so an event handled again
after a crash finds its row instead of writing a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Decision(SQLModel, table=True):
    """A decision taken in a thread: proposed, agreed by consent, objected to (and reopened), or superseded."""

    __tablename__ = "decision"
    __table_args__ = (
        UniqueConstraint("workspace_id", "origin", name="uq_decision_origin"),
        Index("ix_decision_thread", "workspace_id", "thread_id"),
        Index("ix_decision_status", "workspace_id", "status", "consent_until"),
        {"sqlite_autoincrement": True},  # an id is never reused: buttons and deadlines name it
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    channel_id: str
    thread_id: str  # the thread's root message
    origin: str  # the event that recorded it (a command, a click)
    title: str
    question: str = ""
    options: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcome: str = ""
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    participants: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Who wrote which part: {"title": id, "question": id, "outcome": id, "options": [...], "reasons": [...]}.
    authors: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    permalink: str = ""
    language: str = "en"
    private: bool = False
    recorded_by: str | None = None
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = "proposed"  # proposed | agreed | objected | reopened | superseded
    round: int = 0  # 0 when first proposed; each re-proposal after an objection counts up
    round_origin: str = ""  # the event that opened the current round
    consent_until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    card_key: str = ""  # the outbox key of the card posted in the thread (updates name it)
    agreed_at: datetime | None = _utc()
    objected_at: datetime | None = _utc()
    objected_by: str | None = None
    supersedes: int | None = None
    superseded_by: int | None = None
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DecisionVote(SQLModel, table=True):
    """A member's "agree" or "object" on a decision, in one round of consent."""

    __tablename__ = "decision_vote"
    __table_args__ = (UniqueConstraint("workspace_id", "decision_id", "member_id", "round", name="uq_decision_vote"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    decision_id: int
    member_id: str
    round: int = 0
    vote: str  # agree | object
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    origin: str  # the click that cast it


class DecisionOffer(SQLModel, table=True):
    """Steward offered to record a thread's decision: once per thread, whatever happens after."""

    __tablename__ = "decision_offer"

    workspace_id: str = Field(primary_key=True)
    thread_id: str = Field(primary_key=True)
    channel_id: str
    message_id: str  # the message whose words sounded like a decision
    offered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Commitment(SQLModel, table=True):
    """What a member promised, by when; the follow-up's "asked" fact is its nudge row (kind "commitment")."""

    __tablename__ = "commitment"
    __table_args__ = (
        UniqueConstraint("workspace_id", "origin", name="uq_commitment_origin"),
        Index("ix_commitment_open", "workspace_id", "status", "ask_at"),
        Index("ix_commitment_owner", "workspace_id", "owner_id"),
        {"sqlite_autoincrement": True},  # a forgotten member's commitment id never names someone else's
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    owner_id: str
    channel_id: str
    thread_id: str | None = None
    message_id: str | None = None
    origin: str  # the message or command that made it
    text: str
    language: str = "en"
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ask_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    round: int = 0  # 1 once "later" moved the due date
    postponed: bool = False
    status: str = "open"  # open | done | help
    done_at: datetime | None = _utc()
    help_question: str | None = None  # the question "need help" turned it into
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


T_DECISION: Table = Decision.__table__  # type: ignore[attr-defined]
T_DECISION_VOTE: Table = DecisionVote.__table__  # type: ignore[attr-defined]
T_DECISION_OFFER: Table = DecisionOffer.__table__  # type: ignore[attr-defined]
T_COMMITMENT: Table = Commitment.__table__  # type: ignore[attr-defined]
