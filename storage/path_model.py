"""The learning-path tables: paths, their lessons in order, the members who follow them and what they finished.

A path's lessons and a member's progress name lessons by id; a deleted lesson leaves both in the same transaction
(storage.paths.forget_lessons), so a path never points at a lesson that is gone or at one that reused its id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class LearningPath(SQLModel, table=True):
    """A learning path: a one-word name members type, and what following it is good for."""

    __tablename__ = "learning_path"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_learning_path_name"),
        {"sqlite_autoincrement": True},  # an id is never reused: buttons and deadlines name it
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    name: str
    goal: str = ""
    created_by: str | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class LearningPathLesson(SQLModel, table=True):
    """A lesson on a path, at its position (1, 2, 3 … without gaps)."""

    __tablename__ = "learning_path_lesson"
    __table_args__ = (Index("ix_learning_path_lesson_lesson", "workspace_id", "lesson_id"),)

    path_id: int = Field(primary_key=True)
    lesson_id: int = Field(primary_key=True)
    workspace_id: str
    position: int


class LearningPathMember(SQLModel, table=True):
    """A member following a path: their pace, the current round and when it is due."""

    __tablename__ = "learning_path_member"
    __table_args__ = (Index("ix_learning_path_member_status", "workspace_id", "status"),)

    workspace_id: str = Field(primary_key=True)
    path_id: int = Field(primary_key=True)
    member_id: str = Field(primary_key=True)
    pace_days: int = 2
    status: str = "active"  # active | stopped | finished
    round: int = 0  # counts up with every delivery (done, later, next)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    delivered_round: int = -1  # the round sent at the member's own request (`path next`)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class LearningPathDone(SQLModel, table=True):
    """A lesson of a path a member marked done."""

    __tablename__ = "learning_path_done"

    workspace_id: str = Field(primary_key=True)
    path_id: int = Field(primary_key=True)
    member_id: str = Field(primary_key=True)
    lesson_id: int = Field(primary_key=True)
    done_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


T_PATH: Table = LearningPath.__table__  # type: ignore[attr-defined]
T_PATH_LESSON: Table = LearningPathLesson.__table__  # type: ignore[attr-defined]
T_PATH_MEMBER: Table = LearningPathMember.__table__  # type: ignore[attr-defined]
T_PATH_DONE: Table = LearningPathDone.__table__  # type: ignore[attr-defined]
