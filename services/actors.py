"""Who acts on the system (tác nhân): a person, or one of the system's own processes.

A person is a ``services.models.User`` and must hold the role a change needs. The system's own
processes — the command line, the background jobs, the demo loader, the simulation, the
migrations — act as one of the well-known ``SystemActor`` instances below, which the
authorization checks accept explicitly: the system may do what it does. Anything else (a plain
string, an ad-hoc SystemActor) is refused: before, a string skipped the admin check.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.errors import Forbidden
from services.models import User


@dataclass(frozen=True)
class SystemActor:
    """A process of the installation itself; ``name`` is what its audit events show as the actor."""

    name: str


CLI = SystemActor("system:cli")  # an operator's command (flask ...)
JOBS = SystemActor("system")  # the background jobs (services/jobs.py); the name their events always had
DEMO = SystemActor("system:demo")  # the demo loader (services/demo.py)
SIMULATION = SystemActor("system:simulation")  # the simulation (services/simulation*.py)
MIGRATIONS = SystemActor("system:migrations")  # data written by an Alembic migration

SYSTEM_ACTORS = frozenset({CLI, JOBS, DEMO, SIMULATION, MIGRATIONS})

Actor = User | SystemActor


def require_role(actor: Actor, role: str, refusal: str) -> str:
    """The audit name of *actor*, allowed to make a change that needs *role* (in any unit): a
    well-known system actor, or a user who holds the role (Forbidden with *refusal* otherwise).

    Anything else is a caller's bug (TypeError), never a way around the check."""
    if isinstance(actor, User):
        if not actor.has_role(role):
            raise Forbidden(refusal)
        return actor.username
    if isinstance(actor, SystemActor) and actor in SYSTEM_ACTORS:
        return actor.name
    raise TypeError(f"an actor is a services.models.User or one of services.actors.SYSTEM_ACTORS, "
                    f"not {actor!r}")
