"""Database models, one module per concern; import them from here so Alembic sees all tables."""
from services.db import Base
from services.models.accounts import LoginThrottle, OrgUnit, Role, RoleAssignment, User
from services.models.audit import AuditEvent
from services.models.procedures import PolicySetting, Procedure, ProcedureVersion
from services.models.dossiers import (
    ApologyLetter, CalendarConfig, Dossier, DossierSequence, DossierStep, Notification, SupplementRequest,
)
from services.models.documents import Document

__all__ = ["Base", "OrgUnit", "Role", "RoleAssignment", "User", "AuditEvent", "Procedure", "ProcedureVersion",
           "ApologyLetter", "CalendarConfig", "Dossier", "DossierSequence", "DossierStep", "Notification",
           "SupplementRequest", "Document", "LoginThrottle", "PolicySetting"]
