"""SQLAlchemy 2 tables of the service: datasets, background jobs and runs, each reproducible."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Dialect, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator


def new_id() -> str:
    """A random 32-hex-digit id, unguessable and URL-safe."""
    return uuid.uuid4().hex


def utc_now() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime that reads back aware in UTC on SQLite too (it stores none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """Attach UTC to the naive values SQLite returns."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base: JSON columns for dicts and lists, aware datetimes."""

    type_annotation_map = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        dt.datetime: UtcDateTime(),
    }


class Dataset(Base):
    """An uploaded orders file: where it lives, what loaded and what was rejected, by reason."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_loaded: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    rejected_by_reason: Mapped[dict[str, Any]]
    customers: Mapped[int] = mapped_column(Integer)
    versions: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    # How it is read, at upload and on every later read (models.customers.load_orders): the
    # orders' and contacts' column mappings (ours -> the file's), the decimal separator, the
    # timestamp format.
    columns: Mapped[dict[str, Any] | None]
    contact_columns: Mapped[dict[str, Any] | None]
    decimal: Mapped[str] = mapped_column(String(1), default=".", server_default=".")
    timestamp_format: Mapped[str | None] = mapped_column(String(64))


class Job(Base):
    """A background job (a model fit): status, progress from 0 to 1, parameters and outcome."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    dataset_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    versions: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class Run(Base):
    """One solve or scenario run kept for reproduction: exact inputs, outputs, package versions.

    A scenario run is carried out by a background job (`job_id`): status and progress are its.
    An allocation run past the retention settings is compacted (`compacted_at`): its problem
    and the plan are dropped, the result's summary stays (api.retention).
    """

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_retention", "kind", "compacted_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    inputs: Mapped[dict[str, Any]]
    outputs: Mapped[dict[str, Any]]
    versions: Mapped[dict[str, Any]]
    elapsed_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    job_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    compacted_at: Mapped[dt.datetime | None] = mapped_column(default=None)


Owned = TypeVar("Owned", Dataset, Job, Run)


def owned(session: Session, model: type[Owned], object_id: str, workspace: str) -> Owned | None:
    """The row with this id when it belongs to `workspace`, else None: another workspace's
    object is as unknown as one that does not exist."""
    row = session.get(model, object_id)
    return row if row is not None and row.workspace == workspace else None
