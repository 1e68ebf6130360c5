"""The province's policy settings (tham số chính sách của tỉnh): the minimum time cut per year.

The cut a designer gives a procedure (tthc.reduction, or the upload form's reduction) may not be
below the province's minimum for the year of the upload. The minimum is shipped as 0.30 for every
year — the province's rule (directive 979/UBND-HCC, and NQ 66/NQ-CP's 30 % for 2025) — and an
administrator raises it when the province adopts a higher target (NQ 66's aim for 2026 is 50 %
against 2024, see DOMAIN-2025.md): never below the shipped 0.30, which the linter also uses when no
database is there.

Stored as one ``policy_settings`` row, key ``reduction_minimum``, JSON
``{"default": "0.3", "years": {"2026": "0.5"}}``; a year without its own entry uses the default.
**Which year applies**: the calendar year, in Asia/Ho_Chi_Minh, of the moment the version is
uploaded and linted (a version uploaded at 23:30 on 31/12/2025 in Vietnam is checked against
2025's minimum): the lint report is made once, at upload, and every reviewer sees the minimum it
was checked against.

Reads are cached per database and revision, as the calendar's are (one indexed single-row query
per upload); a change is admin-only, one transaction with one ``policy_changed`` audit event, and
is refused with a Conflict when the row changed after the editor opened it.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bpmn.profile import POLICY_MIN_REDUCTION, ProfileValueError, describe_fraction, parse_reduction
from engine.calendar import FIRST_YEAR, LAST_YEAR, to_local
from services import audit
from services.actors import Actor, require_role
from services.errors import N_, Conflict, ServiceError, ValidationError
from services.models import PolicySetting
from services.uow import transaction

REDUCTION_KEY = "reduction_minimum"
ACTION = "policy_changed"
#: The floor an administrator cannot go below: the province's own rule.
FLOOR = POLICY_MIN_REDUCTION
#: A minimum is a percentage with at most two decimals (33.33 %): four decimals as a fraction.
MAX_DECIMALS = 4
MAX_YEARS = 200
HEAD = select(PolicySetting.revision, PolicySetting.updated_at).where(PolicySetting.key == REDUCTION_KEY)


class PolicyCorrupt(ServiceError):
    """The stored setting cannot be read (edited by hand): a server problem, said plainly."""

    status = 500


@dataclass(frozen=True)
class ReductionPolicy:
    """The minimum cut: ``default`` for every year, ``years`` where the province set its own.

    ``revision`` is 0 while nothing is stored (the shipped policy).
    """

    default: Fraction = FLOOR
    years: Mapping[int, Fraction] = field(default_factory=dict)
    revision: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None

    def minimum_for(self, year: int) -> Fraction:
        return self.years.get(year, self.default)

    def to_json(self) -> dict:
        return {"default": describe_fraction(self.default),
                "years": {str(y): describe_fraction(m) for y, m in sorted(self.years.items())}}


SHIPPED = ReductionPolicy()


def policy_year(moment: datetime) -> int:
    """The year whose minimum applies at *moment* (naive = UTC): its year in Asia/Ho_Chi_Minh."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return to_local(moment).year


# -- values ----------------------------------------------------------------------------------------

def parse_minimum(value: object, field_name: str = "default") -> Fraction:
    """An exact minimum cut: ``0.5``, ``50%``, ``0,5``; FLOOR ≤ m < 1, at most 4 decimals."""
    try:
        minimum = parse_reduction(value)
    except ProfileValueError:
        raise ValidationError(N_("'%(value)s' is not a reduction: give a fraction such as 0.5 or a "
                                 "percentage such as 50%%."), field_name, value=str(value)[:40]) from None
    if minimum < FLOOR:
        raise ValidationError(N_("The minimum cut cannot be below %(floor)s%% (the province's rule, "
                                 "directive 979/UBND-HCC); '%(value)s' was given."), field_name,
                              floor=describe_fraction(FLOOR * 100), value=str(value)[:40])
    if (minimum * 10 ** MAX_DECIMALS).denominator != 1:
        raise ValidationError(N_("'%(value)s' is too precise: a percentage has at most two decimals "
                                 "(for example 33.33%%)."), field_name, value=str(value)[:40])
    return minimum


def _check_year(year: object) -> int:
    text = str(year).strip()
    if isinstance(year, bool) or not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise ValidationError(N_("The year must be between %(first)d and %(last)d."), "years",
                              first=FIRST_YEAR, last=LAST_YEAR)
    return int(text)


def _from_json(data: str, revision: int, updated_at, updated_by) -> ReductionPolicy:
    try:
        raw = json.loads(data)
        default = parse_minimum(raw.get("default", describe_fraction(FLOOR)))
        years = {_check_year(y): parse_minimum(m, "years") for y, m in (raw.get("years") or {}).items()}
    except (ValueError, TypeError, AttributeError, ValidationError) as exc:
        detail = exc.message if isinstance(exc, ServiceError) else str(exc)
        raise PolicyCorrupt(N_("The stored policy setting %(key)s cannot be read (%(detail)s); an "
                               "administrator must save it again on the policy page."), "policy",
                            key=REDUCTION_KEY, detail=detail[:200]) from None
    return ReductionPolicy(default, years, revision, _utc(updated_at), updated_by)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite hands back naive UTC
        return moment.replace(tzinfo=timezone.utc)
    return moment


# -- reading ---------------------------------------------------------------------------------------

_cache: dict[str, tuple[tuple[int, str], ReductionPolicy]] = {}
_cache_lock = threading.Lock()


def reduction_policy(session: Session) -> ReductionPolicy:
    """The policy in force: the stored one, else the shipped 0.30 for every year (cached)."""
    head = session.execute(HEAD).first()
    if head is None:
        return SHIPPED
    stamp = (head.revision, (_utc(head.updated_at) or datetime.min).isoformat())
    key = session.get_bind().url.render_as_string(hide_password=True)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    row = session.get(PolicySetting, REDUCTION_KEY, populate_existing=True)
    if row is None:  # deleted between the two reads
        return SHIPPED
    policy = _from_json(row.value, row.revision, row.updated_at, row.updated_by)
    with _cache_lock:
        _cache[key] = ((row.revision, (_utc(row.updated_at) or datetime.min).isoformat()), policy)
    return policy


def minimum_reduction(session: Session, at: datetime) -> tuple[int, Fraction]:
    """(year, minimum cut) for something linted at *at*."""
    year = policy_year(at)
    return year, reduction_policy(session).minimum_for(year)


# -- changing --------------------------------------------------------------------------------------

def _stored_json(row: PolicySetting | None) -> dict:
    if row is None:
        return SHIPPED.to_json()
    try:
        return _from_json(row.value, row.revision, row.updated_at, row.updated_by).to_json()
    except PolicyCorrupt:  # saving a good value is how an administrator repairs it
        return {"unreadable": row.value[:200]}


def _actor(actor: Actor) -> str:
    """The audit actor: an administrator, or one of the system's own processes (services.actors)."""
    return require_role(actor, "admin", N_("Only administrators can change the province's policy settings."))


def update_reduction_policy(session: Session, actor: Actor, *, default: object,
                            years: Mapping[object, object], expected_revision: int | None = None,
                            now: datetime | None = None) -> ReductionPolicy:
    """Replace the minimum cut: *default* for every year and the *years* that differ from it.

    Saving what is stored already changes nothing and writes no event.
    """
    who = _actor(actor)
    if len(years) > MAX_YEARS:
        raise ValidationError(N_("At most %(n)d years can be listed."), "years", n=MAX_YEARS)
    wanted = ReductionPolicy(parse_minimum(default, "default"),
                             {_check_year(y): parse_minimum(m, "years") for y, m in years.items()})
    with transaction(session):
        row = session.get(PolicySetting, REDUCTION_KEY, populate_existing=True)
        current = row.revision if row is not None else 0
        if expected_revision is not None and expected_revision != current:
            at = to_local(_utc(row.updated_at)).strftime("%d/%m/%Y %H:%M") if row else "?"
            raise Conflict(N_("The policy was changed by %(user)s at %(at)s after you opened it; reload "
                              "the page and make your change again."), "revision",
                           user=row.updated_by if row else "?", at=at)
        before = _stored_json(row)
        after = wanted.to_json()
        if before == after:
            return reduction_policy(session)
        moment = now or datetime.now(timezone.utc)
        value = json.dumps(after, ensure_ascii=False, sort_keys=True)
        if row is None:
            row = PolicySetting(key=REDUCTION_KEY, value=value, updated_at=moment, updated_by=who)
            session.add(row)
        else:
            row.value, row.updated_at, row.updated_by = value, moment, who
        try:
            session.flush()  # the version counter turns a concurrent save into StaleDataError here
        except (StaleDataError, IntegrityError):
            raise Conflict(N_("Another administrator saved the policy at the same moment; reload the "
                              "page and make your change again."), "revision") from None
        audit.record(session, who, ACTION, f"policy:{REDUCTION_KEY}",
                     {"revision": row.revision, "before": before, "after": after})
    return reduction_policy(session)


def percent(value: Fraction) -> str:
    """``Fraction(1, 2)`` → ``"50"`` (for "50 %")."""
    return describe_fraction(value * 100)
