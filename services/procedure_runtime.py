"""The runtime of a procedure version (bộ máy thực thi của phiên bản): what the desks run.

Shared by the publication check (:mod:`services.procedures`) and every dossier use case
(:mod:`services.dossiers`), in a module of its own so that neither imports the other for it.
"""
from __future__ import annotations

from engine.runtime import ProcedureRuntime, runtime_for
from services.models import ProcedureVersion


def runtime(version: ProcedureVersion) -> ProcedureRuntime:
    # Keyed by id and content hash: a cached spec can never be applied to other BPMN.
    return runtime_for(f"version:{version.id}:{version.bpmn_sha256}", lambda: version.bpmn)
