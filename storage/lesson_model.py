"""The lesson table: one row per captured thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    String,
    Table,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Lesson(SQLModel, table=True):
    """A lesson; `source_message_id` is the thread it came from, so capturing a thread again updates it."""

    __table_args__ = (
        UniqueConstraint("workspace_id", "source_message_id", name="uq_lesson_source"),
        Index("ix_lesson_workspace_updated", "workspace_id", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    source_message_id: str
    channel_id: str
    title: str
    summary: str = ""  # the asker's problem
    solution: str = Field(default="", sa_column=Column(String, nullable=False, server_default=""))
    steps: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tips: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    permalink: str = ""
    contributors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    verified_by: str | None = None
    private: bool = False


T_LESSON: Table = Lesson.__table__  # type: ignore[attr-defined]


def _body(lesson: Lesson) -> str:
    return " ".join([lesson.summary, lesson.solution, *lesson.steps, *lesson.tips, *lesson.tags])


def _lesson(row: Any) -> Lesson:
    data = {c.name: row._mapping[c.name] for c in T_LESSON.columns}
    return Lesson(**data)
