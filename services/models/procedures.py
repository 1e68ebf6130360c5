"""Procedures (thủ tục hành chính) and their internal-procedure versions (phiên bản quy trình nội bộ)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import TEXT_LIMIT, Base, UTCDateTime
from services.models.accounts import OrgUnit, User

# Version statuses, in lifecycle order (DESIGN.md, "Procedure versions").
DRAFT, SUBMITTED, VP_REVIEWED, APPROVED, PUBLISHED, RETIRED, REJECTED = (
    "draft", "submitted", "vp_reviewed", "approved", "published", "retired", "rejected")


class Procedure(Base):
    """`Procedure` — thủ tục hành chính: one TTHC handled by one competent agency.

    `code` (mã TTHC) is unique in the province, i.e. in the installation (services/procedures.py).
    """

    __tablename__ = "procedures"
    __table_args__ = (UniqueConstraint("code", name="uq_procedure_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(500))
    authority: Mapped[str] = mapped_column(String(40))
    agency_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agency: Mapped[OrgUnit] = relationship(lazy="joined")
    versions: Mapped[list[ProcedureVersion]] = relationship(
        back_populates="procedure", order_by="ProcedureVersion.number")


class ProcedureVersion(Base):
    """`ProcedureVersion` — one uploaded BPMN of a procedure, with its lint report and approvals.

    The BPMN is stored once here; running dossiers refer to the version they started on.
    """

    __tablename__ = "procedure_versions"
    __table_args__ = (UniqueConstraint("procedure_id", "number", name="uq_version_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT, index=True)
    filename: Mapped[str] = mapped_column(String(255))
    bpmn: Mapped[bytes] = mapped_column(LargeBinary)
    bpmn_sha256: Mapped[str] = mapped_column(String(64))
    legal_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reduction: Mapped[str] = mapped_column(String(80))  # exact fraction text, e.g. "0.3", "1e-300"
    target_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    allocated_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lint_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    lint_report: Mapped[str] = mapped_column(Text)  # the report's JSON (language-neutral codes)
    requires_vp_review: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    vp_opinion: Mapped[str | None] = mapped_column(Text, nullable=True, info={"max_length": TEXT_LIMIT})
    vp_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    vp_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approval_note: Mapped[str | None] = mapped_column(Text, nullable=True, info={"max_length": TEXT_LIMIT})
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The approval workflow (bpmn/library/procedure_approval.bpmn) run by the engine, without spec.
    approval_state: Mapped[str | None] = mapped_column(Text, nullable=True)

    procedure: Mapped[Procedure] = relationship(back_populates="versions", lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    vp_by: Mapped[User | None] = relationship(foreign_keys=[vp_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class PolicySetting(Base):
    """`PolicySetting` — tham số chính sách: one province-wide policy value set by the admin (for
    example the minimum time cut per year), as JSON, with who changed it last."""

    __tablename__ = "policy_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(120))

    __mapper_args__ = {"version_id_col": revision}
