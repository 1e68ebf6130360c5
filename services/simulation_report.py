"""What a simulation found (kết quả mô phỏng): the counts `simulate` returns and the runner fills in.

Its own module because both `services.simulation` (which tallies the outcomes) and
`services.simulation_runner` (which counts what happens on the way) write into it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Counts:
    """`Counts` — số liệu: dossiers by outcome at the end, and what happened on the way."""

    received: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    handed_back: int = 0  # result returned to the applicant
    rejected: int = 0
    withdrawn: int = 0
    within: int = 0
    nearly_due: int = 0
    overdue: int = 0
    waiting: int = 0  # clock stopped: supplement or payment awaited
    supplements: int = 0
    pauses: int = 0
    returns: int = 0
    apologies: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SimulationReport:
    """`SimulationReport` — kết quả mô phỏng: the state at `end_at`, per procedure and in total."""

    seed: int
    start: datetime
    end_at: datetime
    total: Counts = field(default_factory=Counts)
    per_procedure: dict[str, Counts] = field(default_factory=dict)  # procedure code → counts
    procedure_names: dict[str, str] = field(default_factory=dict)
    dossier_ids: list[int] = field(default_factory=list)  # in order of receipt
    service_calls: int = 0
    deadline_runs: int = 0
    errors: list[str] = field(default_factory=list)
    unstaffed: list[str] = field(default_factory=list)  # "role@org unit" nobody holds

    def counts_for(self, procedure_code: str) -> Counts:
        return self.per_procedure.setdefault(procedure_code, Counts())
