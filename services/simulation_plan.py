"""The simulated province's habits (thói quen) and what the simulator plans for each dossier.

When applicants come, how long officials take, what they decide and what they write in the forms:
draws from the simulation's one `random.Random` against the working calendar, with no database
and no service call, so `services.simulation_runner` keeps only the event queue and the services.
Each function draws in a fixed order: a seed gives the same history.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Sequence

from bpmn.procedure import FormField
from engine.calendar import TIMEZONE, WorkingCalendar, to_local
from services.errors import N_, ValidationError
from services.models import Dossier
from services.simulation_people import field_value

# Commune procedures are the bulk of a province's dossiers; provincial ones are rarer.
AUTHORITY_WEIGHTS = {"ubnd_xa": 5, "so": 3, "ubnd_tinh": 2, "chu_tich_ubnd_tinh": 2}
OTHER_DESK_SHARE = 0.1  # provincial dossiers received at a commune's desk (liên thông)
SUPPLEMENT_RATE, PAUSE_RATE, WITHDRAW_RATE, REJECT_RATE = 0.08, 0.03, 0.02, 0.02
RETURN_RATES = {"vp_lanh_dao": 0.10}  # the Văn phòng returns to the department
OTHER_RETURN_RATE, CLAIM_RATE, APOLOGY_RATE, HURRY_RATE = 0.06, 0.2, 0.7, 0.6
DEADLINE_RUNS = (time(7, 30), time(13, 45))  # the deadline job, each working day
SPECIALISTS = frozenset({"chuyen_vien", "vp_chuyen_vien"})
DECIDERS = frozenset({"lanh_dao_phong", "lanh_dao_so", "vp_lanh_dao", "chu_tich", "pho_chu_tich"})
LEADERS = ("lanh_dao_so", "chu_tich", "lanh_dao_phong")  # who signs an apology letter, in order


@dataclass
class DossierPlan:
    """What the simulator knows and intends for one dossier."""

    id: int
    code: str
    procedure: str
    applicant: str
    desk_id: int
    agency_id: int
    version_id: int
    dossier: Dossier | None  # held while open, so the session keeps it and its steps loaded
    supplement: bool
    pause: bool
    reject: bool
    pace: float  # how this dossier's officials work: <1 brisk, >1 slow (a hard case, a busy month)
    gen: int = 0  # bumped when the clock stops or the dossier ends: older planned events lapse
    returns: int = 0
    closed: bool = False
    apology_considered: bool = False
    planned: dict[int, datetime] = field(default_factory=dict)  # open step id → planned completion


def new_plan(rng: random.Random, dossier: Dossier, procedure_code: str, applicant_name: str,
             desk_id: int) -> DossierPlan:
    """A received dossier's fate, drawn once: will it need a supplement, a payment, be rejected."""
    return DossierPlan(id=dossier.id, code=dossier.code, procedure=procedure_code, applicant=applicant_name,
                       desk_id=desk_id, agency_id=dossier.agency_id, version_id=dossier.version_id,
                       dossier=dossier, supplement=rng.random() < SUPPLEMENT_RATE,
                       pause=rng.random() < PAUSE_RATE, reject=rng.random() < REJECT_RATE,
                       pace=min(max(rng.lognormvariate(0, 0.3), 0.5), 2.0))


def arrivals(rng: random.Random, cal: WorkingCalendar, start: datetime, end_at: datetime,
             count: int) -> list[datetime]:
    """`count` receipt instants between `start` and `end_at`, in order."""
    days, day = [], to_local(start).date()
    while day <= to_local(end_at).date():
        if cal.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    if not days:
        raise ValidationError(N_("There is no working day between the start and the end."), "start")
    # Use of the one-stop centres grows over the months (1 → 2.3× from first day to last), and
    # Monday gets the weekend's applicants.
    last = max(len(days) - 1, 1)
    weights = [(0.6 + 0.8 * i / last) * (1.3 if day.weekday() == 0 else 1.0) for i, day in enumerate(days)]
    found = []
    while len(found) < count:
        at = arrival_time(rng, cal, rng.choices(days, weights)[0])
        if start <= at <= end_at:
            found.append(at)
    return sorted(found)


def arrival_time(rng: random.Random, cal: WorkingCalendar, day: date) -> datetime:
    """More in the morning, fewer in the afternoon, some after the receipt cut-off."""
    periods = [(_minute(a), _minute(b)) for a, b in cal.periods]
    (m0, m1), (a0, a1) = periods[0], periods[-1]
    cutoff = min(max(_minute(cal.receipt_cutoff), a0), a1)
    r = rng.random()
    if r < 0.62:
        minute = rng.triangular(m0, m1, m0 + (m1 - m0) / 3)
    elif r < 0.9 or cutoff >= a1:
        minute = rng.uniform(a0, cutoff)
    else:
        minute = rng.uniform(cutoff + 1, a1)
    return datetime.combine(day, time(0), TIMEZONE) + timedelta(minutes=int(minute))


def delay(rng: random.Random, allocation: int, pace: float = 1.0) -> tuple[int, bool]:
    """Working minutes an official takes: mostly within the allocation, some slow, a few very
    slow, and now and then a file forgotten in a drawer for weeks (what leaves overdue
    dossiers); the flag says forgotten."""
    if allocation <= 0:  # "trả kết quả": the applicant comes back for the result
        return (rng.randint(30, 480) if rng.random() < 0.85 else rng.randint(480, 2400)), False
    r = rng.random()
    if r < 0.78:
        factor = rng.uniform(0.1, 0.8)
    elif r < 0.95:
        factor = rng.uniform(0.8, 1.2)
    elif r < 0.99:
        factor = rng.uniform(1.2, 2.5)
    else:
        return round(allocation * rng.uniform(2, 4)) + rng.randint(5, 40) * 480, True
    return max(5, round(allocation * factor * pace)), False


def next_deadline_run(cal: WorkingCalendar, after: datetime) -> datetime:
    day = to_local(after).date()
    while True:
        if cal.is_working_day(day):
            for moment in DEADLINE_RUNS:
                candidate = datetime.combine(day, moment, TIMEZONE)
                if candidate > after:
                    return candidate
        day += timedelta(days=1)


def form_data(rng: random.Random, form_fields: Sequence[FormField], role: str | None, plan: DossierPlan,
              at: datetime) -> tuple[dict, str | None]:
    """What the official enters in the step's form, and the decision when the form has one."""
    data, decision = {}, None
    for form_field in form_fields:
        options = [o for o, _ in form_field.options]
        if form_field.id == "opinion":
            continue  # given as the step's opinion (ý kiến), which the service adds to the data
        if form_field.id == "decision" and "approve" in options:
            rate = RETURN_RATES.get(role, OTHER_RETURN_RATE) * 0.3 ** plan.returns
            decision = "return" if "return" in options and rng.random() < rate else "approve"
            data["decision"] = decision
        else:
            data[form_field.id] = field_value(rng, form_field, plan.applicant, to_local(at).date())
    return data, decision


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute
