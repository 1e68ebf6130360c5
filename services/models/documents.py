"""Documents attached to dossiers (tài liệu, thành phần hồ sơ): one row per attachment.

The bytes live on disk, addressed by their sha256 (services/documents.py): two dossiers holding
the same scanned ID card share one file; the row says which dossier holds it under which name.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base, UTCDateTime
from services.models.accounts import User


class Document(Base):
    """`Document` — tài liệu đính kèm hồ sơ: dossier ↔ content (sha256), with its name and uploader."""

    __tablename__ = "documents"
    __table_args__ = (
        # The same content attached twice to one dossier is one attachment.
        UniqueConstraint("dossier_id", "sha256", name="uq_documents_dossier_sha256"),
        Index("ix_documents_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("dossier_steps.id"), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    uploaded_by: Mapped[User] = relationship(lazy="joined")
