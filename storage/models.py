"""Steward's tables.

Every platform object is keyed by the workspace it belongs to plus the platform's own id, so one database can
serve several Slack workspaces and Discord servers. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(nullable: bool = True, index: bool = False) -> Any:
    """A timezone-aware timestamp column (SQLite stores it as text, PostgreSQL as timestamptz)."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Workspace(SQLModel, table=True):
    """A Slack workspace, a Discord server, or the console/replay community."""

    id: str = Field(primary_key=True)
    platform: str
    name: str = ""
    timezone: str = "UTC"
    language: str = "en"
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Channel(SQLModel, table=True):
    """A channel Steward can see; only watched channels are facilitated."""

    workspace_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    name: str = ""
    watched: bool = True
    private: bool = False
    kind: str = "text"  # text | forum | facilitators
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_activity_at: datetime | None = _utc()  # the latest message, to the hour (the digest's dormancy check)


class Member(SQLModel, table=True):
    """A community member with the preferences Steward must respect."""

    __table_args__ = (Index("ix_member_joined", "workspace_id", "joined_at"),)

    workspace_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    name: str = ""
    timezone: str | None = None
    language: str | None = None
    is_bot: bool = False
    is_facilitator: bool = False
    muted_until: datetime | None = _utc()
    quiet_start: int | None = None  # hour of day in the member's time zone (their own choice; None: the community's)
    quiet_end: int | None = None
    chosen_timezone: str | None = None  # an IANA name the member chose; None: the platform's, else the community's
    dm_closed: bool = False
    first_seen_at: datetime | None = _utc()
    last_seen_at: datetime | None = _utc()
    # Onboarding: a newcomer's first join of a facilitated channel (newcomer conversion counts from it), the
    # welcome and the one invitation sent (never twice), and their first post after joining.
    joined_at: datetime | None = _utc()
    joined_channel: str | None = None
    welcomed_at: datetime | None = _utc()
    invited_at: datetime | None = _utc()
    first_post_at: datetime | None = _utc()


class Message(SQLModel, table=True):
    """Message metadata; `text` is kept only as long as the retention setting allows."""

    __table_args__ = (
        Index("ix_message_channel_posted", "workspace_id", "channel_id", "posted_at"),
        Index("ix_message_member_posted", "workspace_id", "user_id", "posted_at"),
    )

    workspace_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    channel_id: str
    user_id: str
    thread_id: str | None = None
    reply_to: str | None = None
    is_bot: bool = False
    text: str | None = None
    posted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    edited_at: datetime | None = _utc()
    deleted_at: datetime | None = _utc()


class Reaction(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "message_id", "user_id", "emoji"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    message_id: str
    user_id: str
    emoji: str
    reacted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    removed_at: datetime | None = _utc()


class Question(SQLModel, table=True):
    """One question's lifecycle: asked -> answered -> resolved, or flagged -> escalated -> stale."""

    __table_args__ = (
        Index("ix_question_status", "workspace_id", "status"),
        # The digest reads one period's questions by when they were asked, first answered or resolved.
        Index("ix_question_asked", "workspace_id", "channel_id", "asked_at"),
        Index("ix_question_first_response", "workspace_id", "first_response_at"),
        Index("ix_question_resolved", "workspace_id", "resolved_at"),
    )

    workspace_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)  # the id of the message that asked it
    channel_id: str
    asker_id: str
    language: str = "en"
    status: str = "asked"  # asked | answered | resolved | flagged | escalated | stale | not_a_question
    asked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    first_response_id: str | None = None
    first_responder_id: str | None = None
    first_response_at: datetime | None = _utc()
    answered_how: str | None = None  # thread | reply | inferred | claimed
    resolved_at: datetime | None = _utc()
    resolved_how: str | None = None  # reaction | thanks | button | command | forum_tag
    flagged_at: datetime | None = _utc()
    escalated_at: datetime | None = _utc()
    stale_at: datetime | None = _utc()
    not_a_question_at: datetime | None = _utc()
    not_a_question_by: str | None = None
    claimed_by: str | None = None
    followup: bool = False  # asked inside a running conversation: not flagged on its own
    confirm_asked_at: datetime | None = _utc()  # when the asker was asked whether the answer helped
    unanswered_confidence: float | None = None  # how sure Steward was, when its answer time ran out
    checked_at: datetime | None = _utc()  # when it asked the asker instead of flagging (it was unsure)
    suggested_experts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    nudged_experts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Nudge(SQLModel, table=True):
    """A nudge sent to a member; the unique key makes "the same nudge twice" impossible."""

    __table_args__ = (UniqueConstraint("workspace_id", "member_id", "question_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    member_id: str
    question_id: str | None = None
    kind: str  # expert | stuck
    reason: str = ""
    sent_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    led_to_answer: bool = False


class ProcessedEvent(SQLModel, table=True):
    """Every event the engine processed, by its key: a redelivered event finds its row and changes nothing.

    Written in the same transaction as the event's effects, so an event is either processed and recorded, or
    neither (and then it is processed when it comes again).
    """

    __tablename__ = "processed_event"

    workspace_id: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class Response(SQLModel, table=True):
    """Evidence of expertise: who responded to which question with which message (and whether it was accepted).

    The expertise index is rebuilt from these rows and the messages' texts after a restart, so routing is as
    good after a restart as before it.
    """

    __table_args__ = (
        UniqueConstraint("workspace_id", "question_id", "message_id", "accepted"),
        Index("ix_response_responder", "workspace_id", "responder_id", "at"),  # who answered what, and when
        Index("ix_response_at", "workspace_id", "at"),  # one period's answers, for the digest
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    question_id: str
    message_id: str  # the responding message
    responder_id: str
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))  # when the response was written
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))  # when Steward learned of it
    first: bool = False
    accepted: bool = False


class Checkpoint(SQLModel, table=True):
    """The text models of one workspace (conversation tracker, expertise index) as a clean stop left them.

    A start takes them as they are, so a restart changes nothing they decide. The first write after the start
    deletes the row: after a crash there is no checkpoint, and the models are taught again from stored messages.
    """

    __tablename__ = "working_set_checkpoint"

    workspace_id: str = Field(primary_key=True)
    format: int
    taken_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    blob: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))


class WorkspaceLease(SQLModel, table=True):
    """Which process decides for a workspace, until when. Only that process may write the workspace's decisions."""

    __tablename__ = "workspace_lease"

    workspace_id: str = Field(primary_key=True)
    owner: str
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Replica(SQLModel, table=True):
    """A process sharing the database, until when it is known to be alive: the count of live replicas sets each
    one's fair share of the workspaces."""

    __tablename__ = "replica"

    owner: str = Field(primary_key=True)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class InboxEvent(SQLModel, table=True):
    """An event that reached a process that does not own its workspace; the owner takes it from here, in order."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    key: str  # the event's own key: the same event handed over twice is one row
    event: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ExpertTopic(SQLModel, table=True):
    """The expert registry: topics members signed up for with `/steward expert add`."""

    workspace_id: str = Field(primary_key=True)
    member_id: str = Field(primary_key=True)
    topic: str = Field(primary_key=True)


class OutboxEntry(SQLModel, table=True):
    """An action decided but not yet delivered (transactional outbox)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        Index("ix_outbox_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    key: str  # idempotency key: the same decision never yields two rows
    action: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = "pending"  # pending | sending | sent | failed
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    claimed_until: datetime | None = _utc()
    sent_at: datetime | None = _utc()
    platform_ref: str | None = None
    last_error: str | None = None


class UnreachableChannel(SQLModel, table=True):
    """A channel Steward could no longer post in (removed from it, deleted, archived), since when.

    The delivery worker writes the row when a send fails that way, and the facilitators' notice in the same
    transaction, so they are told once however many rows fail. The row goes when a message reaches the channel
    again: a later removal is news again.
    """

    __tablename__ = "unreachable_channel"

    workspace_id: str = Field(primary_key=True)
    channel_id: str = Field(primary_key=True)  # as the failed action named it: an id, or a name ("facilitators")
    reason: str  # removed | gone | archived
    since: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    notice_key: str | None = None  # the outbox key of the facilitators' notice; None when none could be sent
