"""Dossiers (hồ sơ), their steps (the worklist), supplements, apologies, notifications."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import TEXT_LIMIT, Base, UTCDateTime
from services.models.accounts import OrgUnit, User
from services.models.procedures import Procedure, ProcedureVersion

# Dossier statuses (DESIGN.md, "Dossier lifecycle").
RECEIVED, PROCESSING, WAITING_SUPPLEMENT, PAUSED = "received", "processing", "waiting_supplement", "paused"
WITHDRAWN, REJECTED, DONE, RETURNED = "withdrawn", "rejected", "done", "returned"
OPEN_STATUSES = (RECEIVED, PROCESSING, WAITING_SUPPLEMENT, PAUSED)
CLOCK_STOPPED = (WAITING_SUPPLEMENT, PAUSED)

# Step statuses.
STEP_READY, STEP_CLAIMED, STEP_COMPLETED, STEP_CANCELLED = "ready", "claimed", "completed", "cancelled"
STEP_OPEN = (STEP_READY, STEP_CLAIMED)


class Dossier(Base):
    """`Dossier` — hồ sơ: one application, processed on the version it was received on.

    `state` is the workflow state without its spec; `state_version` is the optimistic-concurrency
    counter: an UPDATE that finds another value means someone else completed a step first.
    `due_at` is the return date promised to the applicant (moved by supplement waits and by an
    apology letter); `original_due_at` is moved by supplement waits only, and results are
    classified against it.
    """

    __tablename__ = "dossiers"
    __table_args__ = (Index("ix_dossiers_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    applicant_name: Mapped[str] = mapped_column(String(255))
    applicant_id_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    applicant_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    applicant_email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    applicant_address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target_minutes: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    original_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(30), default=RECEIVED)
    stopped_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stopped_minutes: Mapped[int] = mapped_column(Integer, default=0)
    warning: Mapped[str] = mapped_column(String(20), default="within")  # within / nearly_due / overdue
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result_class: Mapped[str | None] = mapped_column(String(20), nullable=True)  # early / on_time / late
    closed_reason: Mapped[str | None] = mapped_column(Text, nullable=True, info={"max_length": TEXT_LIMIT})
    state: Mapped[str] = mapped_column(Text)
    state_version: Mapped[int] = mapped_column(Integer, default=1)

    procedure: Mapped[Procedure] = relationship(lazy="joined")
    version: Mapped[ProcedureVersion] = relationship(lazy="raise_on_sql")
    agency: Mapped[OrgUnit] = relationship(foreign_keys=[agency_id], lazy="joined")
    desk: Mapped[OrgUnit] = relationship(foreign_keys=[desk_id])
    steps: Mapped[list[DossierStep]] = relationship(back_populates="dossier", order_by="DossierStep.id")

    __mapper_args__ = {"version_id_col": state_version}


class DossierStep(Base):
    """`DossierStep` — bước xử lý: one human task of a dossier; open rows are the worklist."""

    __tablename__ = "dossier_steps"
    __table_args__ = (
        Index("ix_steps_worklist", "status", "role", "org_unit_id", "due_at"),
        UniqueConstraint("dossier_id", "task_id", name="uq_step_task"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(40))
    spec_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    step: Mapped[str | None] = mapped_column(String(30), nullable=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    status: Mapped[str] = mapped_column(String(20), default=STEP_READY)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    allocation_minutes: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warning: Mapped[str] = mapped_column(String(20), default="within")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    used_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON submitted with the completion
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True, info={"max_length": TEXT_LIMIT})

    dossier: Mapped[Dossier] = relationship(back_populates="steps")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])


class DossierSequence(Base):
    """The daily counter behind dossier codes: {agency code}-{YYMMDD}-{NNNN}."""

    __tablename__ = "dossier_sequences"

    agency_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class SupplementRequest(Base):
    """`SupplementRequest` — phiếu yêu cầu bổ sung (Mẫu 02): stops the clock until resubmission."""

    __tablename__ = "supplement_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="supplement")  # supplement / pause
    reason: Mapped[str] = mapped_column(Text, info={"max_length": TEXT_LIMIT})
    items: Mapped[str | None] = mapped_column(Text, nullable=True, info={"max_length": TEXT_LIMIT})
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    waited_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ApologyLetter(Base):
    """`ApologyLetter` — phiếu xin lỗi và hẹn lại ngày trả kết quả: at most one per dossier."""

    __tablename__ = "apology_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text, info={"max_length": TEXT_LIMIT})
    previous_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Notification(Base):
    """`Notification` — thông báo: in-app (and e-mailed when SMTP is set) to one user."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        UniqueConstraint("user_id", "kind", "step_id", name="uq_notification_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # new_task / nearly_due / overdue
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("dossier_steps.id"), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CalendarConfig(Base):
    """`CalendarConfig` — lịch làm việc: the admin-edited calendar as engine.calendar's plain data."""

    __tablename__ = "calendar_config"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # WorkingCalendar.to_dict() as JSON
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(120))
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": revision}
