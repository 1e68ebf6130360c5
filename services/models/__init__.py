"""Database models, one module per concern; import them from here so Alembic sees all tables."""
from services.db import Base
from services.models.accounts import OrgUnit, Role, RoleAssignment, User
from services.models.audit import AuditEvent
from services.models.procedures import Procedure, ProcedureVersion

__all__ = ["Base", "OrgUnit", "Role", "RoleAssignment", "User", "AuditEvent", "Procedure", "ProcedureVersion"]
