"""The event-driven simulator behind `services.simulation.simulate` (bộ mô phỏng).

Every dossier's next actions are events in one priority queue ordered by simulated time (ties in
planning order); handling an event calls one service with `now=` the event's instant and plans
what follows. The province's habits (rates, delays, form values) are drawn in `services.simulation_plan`.
"""
from __future__ import annotations

import heapq
import itertools
import random
from datetime import datetime, time, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import sla
from engine.calendar import TIMEZONE, to_local
from services import dossiers, jobs
from services.assignment import may_perform
from services.calendar import current_calendar
from services.dossiers.common import runtime
from services.errors import N_, ServiceError, ValidationError
from services.models import Dossier, DossierStep, OrgUnit, Procedure, ProcedureVersion, User
from services.models.dossiers import DONE, OPEN_STATUSES, PROCESSING, RECEIVED, STEP_OPEN
from services.models.procedures import PUBLISHED
from services.simulation_people import applicant, opinion
from services.simulation_plan import (
    APOLOGY_RATE,
    AUTHORITY_WEIGHTS,
    CLAIM_RATE,
    DECIDERS,
    HURRY_RATE,
    LEADERS,
    OTHER_DESK_SHARE,
    SPECIALISTS,
    WITHDRAW_RATE,
    DossierPlan,
    arrivals,
    delay,
    form_data,
    new_plan,
    next_deadline_run,
)
from services.simulation_report import SimulationReport


class Simulator:
    """`Simulator` — bộ mô phỏng: runs the dossiers of one `simulate` call into its report."""

    def __init__(self, session: Session, rng: random.Random, report: SimulationReport,
                 progress: Callable[[int, int], None] | None) -> None:
        self.s, self.rng, self.report, self.progress = session, rng, report, progress
        self.start, self.end_at = report.start, report.end_at
        self.cal = current_calendar(session)
        self.queue: list = []
        self.order = itertools.count()
        self.plans: dict[int, DossierPlan] = {}
        self.holders: dict[tuple[str, int], list[int]] = {}
        # Held for the whole run (with their role grants): every service call authorizes one.
        self.users = {u.id: u for u in session.scalars(select(User).order_by(User.id))}
        self.forms: dict[tuple[int, str], tuple] = {}

    # -- the event queue ---------------------------------------------------------------------
    def push(self, at: datetime, handler, *args) -> None:
        if at <= self.end_at:  # later events never happen: those dossiers stay in progress
            heapq.heappush(self.queue, (at, next(self.order), handler, args))

    def run(self, count: int) -> dict[int, str]:
        """Run to `end_at`; returns each simulated dossier's procedure code (by dossier id)."""
        procedures = self._procedures()
        if not procedures:
            raise ValidationError(N_("No procedure is published: load the demo (quytrinh demo) first."), "procedure")
        weights = [AUTHORITY_WEIGHTS.get(p.authority, 2) for p, _ in procedures]
        for at in arrivals(self.rng, self.cal, self.start, self.end_at, count):
            procedure, desks = self.rng.choices(procedures, weights)[0]
            own = [d for d in desks if d[1]] or desks
            pool = desks if self.rng.random() < OTHER_DESK_SHARE else own
            self.push(at, self._arrive, procedure.id, self.rng.choice(pool)[0], count)
        self.push(next_deadline_run(self.cal, self.start), self._deadline_run)
        while self.queue:
            at, _, handler, args = heapq.heappop(self.queue)
            handler(at, *args)
        jobs.mark_deadlines(self.s, now=self.end_at)
        self.report.deadline_runs += 1
        return {plan.id: plan.procedure for plan in self.plans.values()}

    def _procedures(self) -> list[tuple[Procedure, list[tuple[int, bool]]]]:
        """Published procedures with their desks: (desk id, the procedure's own desk?)."""
        found = []
        for procedure in self.s.scalars(select(Procedure).join(ProcedureVersion).where(
                ProcedureVersion.status == PUBLISHED).order_by(Procedure.code, Procedure.id)):
            agency = procedure.agency
            desks = []
            for desk in self.s.scalars(select(OrgUnit).where(OrgUnit.kind == "one_stop").order_by(OrgUnit.code)):
                if not self._holders("mot_cua", desk.id):
                    continue
                # A commune's procedures are received at the commune's own centre; the others at
                # the provincial centre, and now and then at a commune's desk.
                own = desk.parent_id == agency.id if agency.kind == "commune" else desk.parent_id == agency.parent_id
                if own or agency.kind != "commune":
                    desks.append((desk.id, own))
            if desks:
                found.append((procedure, desks))
        return found

    # -- who does it -------------------------------------------------------------------------
    def _holders(self, role: str | None, unit_id: int) -> list[int]:
        """Active users holding `role` in the org unit: the services' rule (may_perform)."""
        key = (role or "", unit_id)
        if key not in self.holders:
            self.holders[key] = [u.id for u in self.users.values() if may_perform(u, role, unit_id)]
        return self.holders[key]

    def _user(self, role: str, unit_id: int) -> User | None:
        ids = self._holders(role, unit_id)
        return self.users[self.rng.choice(ids)] if ids else None

    def _call(self, plan: DossierPlan, fn, *args, **kwargs):
        """A service call; a refusal ends the dossier's simulation and is reported, never hidden."""
        # The service reads the dossier and its steps afresh, as a request would; the officials and
        # their role grants, which nothing changes during the run, stay loaded.
        for step in plan.dossier.steps:
            self.s.expire(step)
        self.s.expire(plan.dossier)
        try:
            result = fn(self.s, *args, **kwargs)
        except ServiceError as exc:
            self._close(plan)
            self.report.errors.append(f"{plan.code}: {fn.__name__}: {exc.message}")
            return None
        self.report.service_calls += 1
        return result

    # -- events ------------------------------------------------------------------------------
    def _arrive(self, at: datetime, procedure_id: int, desk_id: int, total: int) -> None:
        procedure = self.s.get(Procedure, procedure_id)
        officer = self._user("mot_cua", desk_id)
        person = applicant(self.rng)
        try:
            dossier = dossiers.receive(self.s, officer, procedure_id=procedure_id, desk_id=desk_id,
                                       received_at=at, now=at, **person)
        except ServiceError as exc:
            self.report.errors.append(f"{procedure.code}: receive: {exc.message}")
            return
        self.report.service_calls += 1
        rng = self.rng
        plan = new_plan(rng, dossier, procedure.code, person["applicant_name"], desk_id)
        self.plans[plan.id] = plan
        self.report.dossier_ids.append(plan.id)
        self.report.counts_for(plan.procedure).received += 1
        self.report.procedure_names.setdefault(procedure.code, procedure.name)
        if rng.random() < WITHDRAW_RATE:
            minutes = int(dossier.target_minutes * rng.uniform(0.05, 0.6))
            self.push(self.cal.add_working_time(at, max(minutes, 30), receipt=False), self._withdraw, plan.id)
        self._plan_steps(plan, at)
        if self.progress:
            self.progress(len(self.plans), total)

    def _plan_steps(self, plan: DossierPlan, now: datetime) -> None:
        """Plan the work on every open step not planned yet (a new step, or all after a resume)."""
        for step in plan.dossier.steps:
            if step.status not in STEP_OPEN or step.id in plan.planned:
                continue
            step_id, role, allocation, assignee_id = step.id, step.role, step.allocation_minutes, step.assignee_id
            holders = self._holders(role, step.org_unit_id)
            if not holders:
                label = f"{role}@{step.org_unit.code}"
                if label not in self.report.unstaffed:
                    self.report.unstaffed.append(label)
                continue
            user_id = assignee_id or self.rng.choice(holders)  # whoever claimed it finishes it
            minutes, forgotten = delay(self.rng, allocation, plan.pace)
            done_at = self.cal.add_working_time(now, minutes, receipt=False)
            due = plan.dossier.due_at
            if done_at > due > now and not forgotten and self.rng.random() < HURRY_RATE:
                # The desk's monitoring flags the dossier: the official finishes before its date,
                # which leaves it nearly due (and often on time, or just late) rather than far late.
                minutes = max(5, round(self.cal.working_minutes_between(now, due) * self.rng.uniform(0.7, 1.0)))
                done_at = self.cal.add_working_time(now, minutes, receipt=False)
            plan.planned[step_id] = done_at
            if assignee_id is None and self.rng.random() < CLAIM_RATE:
                claim_at = self.cal.add_working_time(now, self.rng.randint(1, max(1, minutes // 3)), receipt=False)
                self.push(claim_at, self._claim, plan.id, step_id, user_id, plan.gen)
            self.push(done_at, self._work, plan.id, step_id, user_id, plan.gen)

    def _live(self, dossier_id: int, gen: int | None = None) -> DossierPlan | None:
        plan = self.plans[dossier_id]
        if plan.closed or (gen is not None and gen != plan.gen):
            return None
        return plan

    def _claim(self, at: datetime, dossier_id: int, step_id: int, user_id: int, gen: int) -> None:
        plan = self._live(dossier_id, gen)
        step = self.s.get(DossierStep, step_id)
        if plan and step.status in STEP_OPEN and step.assignee_id is None:
            self._call(plan, dossiers.claim, self.users[user_id], step_id, now=at)

    def _work(self, at: datetime, dossier_id: int, step_id: int, user_id: int, gen: int) -> None:
        plan = self._live(dossier_id, gen)
        step = self.s.get(DossierStep, step_id)
        if plan is None or step.status not in STEP_OPEN:
            return
        plan.planned.pop(step_id, None)
        user, role, name = self.users[user_id], step.role, step.name or step.spec_id
        if plan.supplement and role in SPECIALISTS:
            plan.supplement = False
            return self._stop(at, plan, user, "supplement", f"Hồ sơ chưa đầy đủ tại bước {name}.")
        if plan.pause and role in DECIDERS:
            plan.pause = False
            return self._stop(at, plan, user, "pause", "Chờ tổ chức, cá nhân thực hiện nghĩa vụ tài chính.")
        if plan.reject and (role in SPECIALISTS or role in DECIDERS) and self.rng.random() < 0.5:
            if self._call(plan, dossiers.close, user, plan.id, outcome="rejected", now=at,
                          reason="Hồ sơ không đủ điều kiện giải quyết theo quy định."):
                self._close(plan)  # counted from the database at the end
            return None
        data, decision = self._form(plan, step, at)
        done = self._call(plan, dossiers.complete, user, step_id, data, now=at,
                          opinion=opinion(self.rng, role, decision))
        if done is None:
            return None
        if decision == "return":
            plan.returns += 1
            self.report.counts_for(plan.procedure).returns += 1
        self._after(at, plan)
        return None

    def _form(self, plan: DossierPlan, step: DossierStep, at: datetime) -> tuple[dict, str | None]:
        key = (plan.version_id, step.spec_id)
        if key not in self.forms:
            version = self.s.get(ProcedureVersion, plan.version_id)
            self.forms[key] = runtime(version).human_task(step.spec_id).form_fields
        return form_data(self.rng, self.forms[key], step.role, plan, at)

    def _after(self, at: datetime, plan: DossierPlan) -> None:
        status = plan.dossier.status
        if status in OPEN_STATUSES or status == DONE:
            self._plan_steps(plan, at)
        if status == DONE and not plan.planned:  # a result ready with no "return" step
            self.push(self.cal.add_working_time(at, delay(self.rng, 0)[0], receipt=False), self._hand_over, plan.id)
        if status not in OPEN_STATUSES and status != DONE:
            self._close(plan)

    def _close(self, plan: DossierPlan) -> None:
        plan.closed, plan.gen, plan.dossier = True, plan.gen + 1, None
        plan.planned.clear()

    def _stop(self, at: datetime, plan: DossierPlan, user: User, kind: str, reason: str) -> None:
        if self._call(plan, dossiers.stop_clock, user, plan.id, kind=kind, reason=reason, now=at,
                      items="Bản sao giấy tờ còn thiếu" if kind == "supplement" else None) is None:
            return
        plan.gen += 1
        plan.planned.clear()
        counts = self.report.counts_for(plan.procedure)
        if kind == "supplement":
            counts.supplements += 1
            days = self.rng.randint(1, 10)  # the applicant comes back with the documents
        else:
            counts.pauses += 1
            days = self.rng.randint(1, 5)
        day = to_local(at).date() + timedelta(days=days)
        when = self.cal.add_working_time(datetime.combine(day, time(0), TIMEZONE), self.rng.randint(1, 420),
                                         receipt=False)
        self.push(when, self._resume, plan.id, plan.gen)

    def _resume(self, at: datetime, dossier_id: int, gen: int) -> None:
        plan = self._live(dossier_id, gen)
        if plan and self._call(plan, dossiers.resume, self._user("mot_cua", plan.desk_id), plan.id, now=at):
            self._plan_steps(plan, at)

    def _withdraw(self, at: datetime, dossier_id: int) -> None:
        plan = self._live(dossier_id)
        if plan and plan.dossier.status in OPEN_STATUSES:
            if self._call(plan, dossiers.close, self._user("mot_cua", plan.desk_id), plan.id, outcome="withdrawn",
                          reason="Tổ chức, cá nhân có văn bản xin rút hồ sơ.", now=at):
                self._close(plan)

    def _hand_over(self, at: datetime, dossier_id: int) -> None:
        plan = self._live(dossier_id)
        if plan and plan.dossier.status == DONE:
            self._call(plan, dossiers.hand_over, self._user("mot_cua", plan.desk_id), plan.id, now=at)
            self._close(plan)

    def _deadline_run(self, at: datetime) -> None:
        jobs.mark_deadlines(self.s, now=at)
        self.report.deadline_runs += 1
        self._apologies(at)
        self.push(next_deadline_run(self.cal, at), self._deadline_run)

    def _apologies(self, at: datetime) -> None:
        """Officials who see that a dossier will miss its date send the applicant an apology, once."""
        rows = self.s.execute(select(Dossier.id, Dossier.due_at, Dossier.warning).where(
            Dossier.status.in_((RECEIVED, PROCESSING)), Dossier.warning != sla.WITHIN).order_by(Dossier.id)).all()
        for dossier_id, due_at, warning in rows:
            plan = self.plans.get(dossier_id)
            if plan is None or plan.closed or plan.apology_considered:
                continue
            expected = max(plan.planned.values(), default=at)
            if warning != sla.OVERDUE and expected <= due_at:
                continue  # nearly due, but the work in hand ends in time
            plan.apology_considered = True
            if self.rng.random() >= APOLOGY_RATE:
                continue
            issuer = next((u for u in (self._user(r, plan.agency_id) for r in LEADERS) if u), None)
            issuer = issuer or self._user("mot_cua", plan.desk_id)
            new_due = self.cal.add_working_time(max(due_at, expected), self.rng.choice((480, 960, 1440)),
                                                receipt=False)
            if self._call(plan, dossiers.issue_apology, issuer, plan.id, new_due_at=new_due, now=at,
                          reason="Hồ sơ cần thêm thời gian thẩm định, xin lỗi và hẹn lại ngày trả kết quả."):
                self.report.counts_for(plan.procedure).apologies += 1
