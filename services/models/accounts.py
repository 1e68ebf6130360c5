"""Org units, users, roles and role assignments scoped to an org unit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.db import Base, UTCDateTime


class OrgUnit(Base):
    """`OrgUnit` — cơ quan, đơn vị: a province, department, office, one-stop centre or commune.

    `code` is the e-government identifier (mã định danh điện tử) such as H01 or H01.15.
    """

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(30), default="department")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[OrgUnit | None] = relationship(remote_side="OrgUnit.id")

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code}>"


class Role(Base):
    """`Role` — vai trò: what a person may do (mot_cua, chuyen_vien, chu_tich, auditor, admin…)."""

    __tablename__ = "roles"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))


class User(Base):
    """`User` — tài khoản: one person's account; `session_epoch` ends its sessions when bumped.

    `failed_logins` and `locked_until` are no longer used (login throttles are per client and account,
    in `login_throttles`); they are kept at 0/None for older code reading them.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # Bumped by logout, a password change or reset and deactivation: every session that carries
    # an older epoch is no longer accepted.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    assignments: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login's user protocol, kept here so the web layer needs no wrapper class.
    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # Flask-Login keeps this in the session: the epoch in it ends the session when bumped
        # (services.accounts.session_user).
        return f"{self.id}:{self.session_epoch or 0}"

    def role_codes(self) -> set[str]:
        return {a.role_code for a in self.assignments}

    def has_role(self, role_code: str, org_unit_id: int | None = None) -> bool:
        return any(
            a.role_code == role_code and (org_unit_id is None or a.org_unit_id == org_unit_id)
            for a in self.assignments
        )


class RoleAssignment(Base):
    """`RoleAssignment` — phân quyền: a role held in one org unit."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("user_id", "role_code", "org_unit_id", name="uq_role_assignment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role_code: Mapped[str] = mapped_column(ForeignKey("roles.code"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)

    user: Mapped[User] = relationship(back_populates="assignments")
    role: Mapped[Role] = relationship(lazy="joined")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")


class LoginThrottle(Base):
    """`LoginThrottle` — giới hạn đăng nhập: failed logins counted per key (an address, or an
    address and an account) in a window, and how long that key is held back."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
