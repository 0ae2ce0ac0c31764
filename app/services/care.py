"""Care tasks (关怀待办): the daily run that creates them exactly once, and working on them.

Exactly once: `care_task` is unique on (customer_id, rule_id, occurrence_key) and every task is
created by one set-based INSERT … SELECT … ON CONFLICT DO NOTHING per (rule, day, occurrence) —
never a Python loop over customers. A rerun, a restart half-way, or two processes at once can only
hit the unique key. Each rule keeps a watermark (`covered_through`); a run evaluates every day since
then (at most `MAX_CATCH_UP_DAYS`), so a day the scheduler missed is caught up once, on the next run.

Assignment: rules owned by Sales go to the customer's owner. Otherwise (or for a customer without
an owner) the task goes round-robin over the active users of the rule's owner role, by customer
number (customer id mod pool size): set-based, even, and one customer's tasks stay with one person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Date, Integer, String, case, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models.base import utcnow
from app.models.bill import Bill
from app.models.care import TASK_OUTCOMES, CareRule, CareTask
from app.models.care_summary import CareTaskDaily
from app.models.customer import Customer
from app.models.plan import Plan
from app.models.user import CrmUser
from app.security.access import scope_care_tasks, sees_all_care_tasks
from app.services import arrears, audit, care_messages
from app.services.actor import Actor
from app.services.care_kinds import KINDS, Occurrence, local_day_start_utc
from app.services.care_rules import params_of
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.validation import check_version
from app.timefmt import to_local

MAX_CATCH_UP_DAYS = 31
_LOCK_NAMESPACE = 0x43415245  # "CARE": advisory lock key space of the daily run (PostgreSQL)
TASK_COLUMNS = ("rule_id", "customer_id", "occurrence_key", "due_date", "assignee_id", "status", "priority",
                "attempts", "created_at", "updated_at", "version")


def business_date(now: dt.datetime) -> dt.date:
    """The operator's calendar day at `now` (naive UTC, as stored)."""
    return to_local(now).date()


def _insert(dialect: str) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(CareTask.__table__)  # Core: rowcount


def role_pool(role: str) -> list[int]:
    """Active users holding `role`, by id (the round-robin order)."""
    from flask_appbuilder.security.sqla.models import Role, assoc_user_role

    stmt = (select(CrmUser.id).join(assoc_user_role, assoc_user_role.c.user_id == CrmUser.id)
            .join(Role, Role.id == assoc_user_role.c.role_id)
            .where(Role.name == role, CrmUser.active.is_(True)).order_by(CrmUser.id))
    return list(dict.fromkeys(db.session.execute(stmt).scalars()))


def round_robin(pool: list[int]) -> Any:
    """SQL for "one of `pool`, by customer id" (stable: a customer's tasks go to the same person)."""
    if not pool:
        return literal(None, Integer)
    if len(pool) == 1:
        return literal(pool[0], Integer)
    return case(*[(Customer.id % len(pool) == i, literal(uid, Integer)) for i, uid in enumerate(pool)])


def _assignee(rule: CareRule, pool: list[int]) -> Any:
    if rule.owner_role == "Sales":
        return func.coalesce(Customer.owner_id, round_robin(pool))
    return round_robin(pool)


def _targeting(rule: CareRule, day: dt.date) -> list[Any]:
    where: list[Any] = [Customer.status != "closed"]
    if rule.target_segment:
        where.append(Customer.segment == rule.target_segment)
    if rule.target_city:
        where.append(Customer.city == rule.target_city)
    if rule.target_plan_type:
        where.append(Customer.plan_id.in_(select(Plan.id).where(Plan.plan_type == rule.target_plan_type)))
    if rule.min_tenure_days:
        joined_by = day - dt.timedelta(days=rule.min_tenure_days)
        where.append(Customer.created_at < local_day_start_utc(joined_by + dt.timedelta(days=1)))
    return where


def _insert_occurrence(rule: CareRule, occ: Occurrence, assignee: Any, day: dt.date, now: dt.datetime,
                       dialect: str) -> int:
    key = occ.key if not isinstance(occ.key, str) else literal(occ.key, String)
    query = select(
        literal(rule.id, Integer), Customer.id, key, literal(occ.due, Date), assignee, literal("open", String),
        literal(occ.priority, String), literal(0, Integer), literal(now), literal(now), literal(1, Integer),
    ).select_from(Customer)
    if occ.source is not None:
        query = query.join(occ.source, occ.source.c.customer_id == Customer.id)
    # A WHERE clause is always present: SQLite needs one before ON CONFLICT in INSERT … SELECT.
    query = query.where(*_targeting(rule, day), *occ.where)
    stmt = _insert(dialect).from_select(list(TASK_COLUMNS), query).on_conflict_do_nothing(
        index_elements=["customer_id", "rule_id", "occurrence_key"])
    # rowcount of an INSERT is only kept when asked for (SQLAlchemy's preserve_rowcount).
    result = db.session.connection().execute(stmt.execution_options(preserve_rowcount=True))
    return max(result.rowcount or 0, 0)


@dataclass
class RunResult:
    rules: int = 0
    days: int = 0
    created: int = 0
    messages: int = 0  # care messages queued in the outbox (rules whose action is SMS/email)
    suppressed: int = 0  # marketing messages not sent: the customer did not consent
    no_template: int = 0  # message rules skipped: no enabled template with the rule's code

    def as_dict(self) -> dict[str, int]:
        out = {"rules": self.rules, "days": self.days, "created": self.created}
        out.update({k: v for k, v in (("messages", self.messages), ("suppressed", self.suppressed),
                                      ("no_template", self.no_template)) if v})
        return out


def run_daily(now: dt.datetime, today: dt.date | None = None) -> RunResult:
    """Create the tasks of every enabled rule for every day not yet covered, up to `today`."""
    today = today or business_date(now)
    dialect = db.session.get_bind().dialect.name
    result = RunResult()
    rule_ids = list(db.session.execute(
        select(CareRule.id).where(CareRule.enabled.is_(True)).order_by(CareRule.id)
    ).scalars())
    pools: dict[str, list[int]] = {}
    for rule_id in rule_ids:
        if dialect == "postgresql":
            # Two runners at once take turns per rule (the second then finds every key taken), so
            # their INSERTs never wait on each other's uncommitted rows in opposite orders.
            db.session.execute(text("SELECT pg_advisory_xact_lock(CAST(:a AS integer), CAST(:b AS integer))"),
                               {"a": _LOCK_NAMESPACE, "b": rule_id})
        rule = db.session.get(CareRule, rule_id)
        db.session.refresh(rule)  # the watermark as of now, after any other runner's commit
        kind = KINDS.get(rule.kind)
        if kind is None:
            continue
        params = {**kind.default_params, **params_of(rule)}
        earliest = today - dt.timedelta(days=MAX_CATCH_UP_DAYS - 1)
        start = today if rule.covered_through is None else max(rule.covered_through + dt.timedelta(days=1), earliest)
        start = min(start, today)  # a rerun on the same day evaluates today again (no duplicates)
        if rule.owner_role not in pools:
            pools[rule.owner_role] = role_pool(rule.owner_role)
        assignee = _assignee(rule, pools[rule.owner_role])
        purpose = care_messages.template_purpose(rule) if care_messages.is_message_rule(rule) else None
        if care_messages.is_message_rule(rule) and purpose is None:
            result.no_template += 1
        day = start
        while day <= today:
            for occ in kind.occurrences(params, day, rule.lead_days):
                if not care_messages.is_message_rule(rule):
                    result.created += _insert_occurrence(rule, occ, assignee, day, now, dialect)
                elif purpose is not None:
                    queued, suppressed = care_messages.insert_occurrence(
                        rule, occ, _targeting(rule, day), params, purpose, now, dialect)
                    result.messages += queued
                    result.suppressed += suppressed
            result.days += 1
            day += dt.timedelta(days=1)
        # Tasks and the watermark commit together: a crash leaves neither, and a rerun redoes both.
        db.session.execute(
            update(CareRule).where(CareRule.id == rule.id)
            .where((CareRule.covered_through.is_(None)) | (CareRule.covered_through < today))
            .values(covered_through=today)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        result.rules += 1
    return result


# --- working on tasks ------------------------------------------------------------------------------


def get_task(task_id: int, actor: Actor) -> CareTask:
    stmt = scope_care_tasks(select(CareTask).where(CareTask.id == task_id), actor)
    task = db.session.execute(stmt).scalar_one_or_none()
    if task is None:
        raise NotFound()
    return task


def current_values(task: CareTask) -> dict[str, Any]:
    """The task as it is now, for a conflict: what the other person's outcome or move left."""
    return {"status": task.status, "due_date": task.due_date.isoformat(), "attempts": task.attempts,
            "outcome": task.outcome, "assignee_id": task.assignee_id}


def _check_version(task: CareTask, version: Any) -> None:
    """An outcome recorded from a stale page or API read (someone recorded one or moved the task
    since) is a Conflict: two "not reached" from two open pages must not count as two attempts."""
    if check_version(version) not in (None, task.version):
        raise Conflict(current=current_values(task))


def complete(task_id: int, outcome: Any, notes: Any, actor: Actor, today: dt.date | None = None,
             version: Any = None) -> CareTask:
    """Record a call's outcome. "Not reached" reschedules (rule.retry_days later) until the rule's
    max_attempts is used up; every other outcome closes the task. `version` is the one the page or
    API client read; a stale one is a Conflict and nothing is applied."""
    today = today or business_date(utcnow())
    task = get_task(task_id, actor)
    _check_version(task, version)
    errors = {}
    if task.status != "open":
        errors["status"] = _("This task is already closed.")
    if outcome not in TASK_OUTCOMES:
        errors["outcome"] = _("Choose an outcome.")
    text = str(notes or "").strip()
    if len(text) > 2000:
        errors["notes"] = _("At most %(n)d characters.", n=2000)
    if errors:
        raise Invalid(errors)
    # Read the rule before changing the task: a lazy load in between would autoflush the first half
    # of the change as its own UPDATE (two version bumps for one outcome).
    rule = task.rule
    before = {"status": task.status, "due_date": task.due_date.isoformat(), "attempts": task.attempts}
    task.attempts += 1
    task.outcome = outcome
    if text:
        line = f"{today.isoformat()} {actor.username}: {text}"
        task.notes = f"{task.notes}\n{line}" if task.notes else line
    max_attempts, retry_days = (rule.max_attempts, rule.retry_days) if rule is not None else (3, 2)
    if outcome == "not_reached" and task.attempts < max_attempts:
        task.due_date = today + dt.timedelta(days=retry_days)
    else:
        task.status = "done"
        task.completed_at = utcnow()
        task.completed_by_id = actor.id
    after = {"status": task.status, "due_date": task.due_date.isoformat(), "attempts": task.attempts,
             "outcome": outcome}
    try:
        # The UPDATE matches the version read above only: a writer who committed since wins the race.
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(current=current_values(get_task(task_id, actor))) from None
    audit.record(actor, "update", "care_task", task.id, {"before": before, "after": after})
    db.session.commit()
    return task


def reassign(task_ids: list[Any], user_id: Any, actor: Actor, version: int | None = None) -> int:
    """Managers move open tasks to another active user; returns how many moved.

    `version` (one task, as the caller read it) makes the move conditional on it in the UPDATE itself:
    a change committed between the caller's check and this statement is a Conflict, not overwritten."""
    if not sees_all_care_tasks(actor):
        raise Forbidden(_("Only a manager can reassign care tasks."))
    try:
        ids = sorted({int(t) for t in task_ids})
    except (TypeError, ValueError):
        raise Invalid({"task_ids": _("Not a valid selection.")}) from None
    if not ids:
        raise Invalid({"task_ids": _("Select at least one task.")})
    try:
        target = db.session.get(CrmUser, int(user_id))
    except (TypeError, ValueError):
        target = None
    if target is None or not target.active:
        raise Invalid({"assignee_id": _("Choose an active user.")})
    stmt = update(CareTask).where(CareTask.id.in_(ids), CareTask.status == "open")
    if version is not None and len(ids) == 1:
        stmt = stmt.where(CareTask.version == version)
    moved = db.session.execute(
        stmt.values(assignee_id=target.id, version=CareTask.version + 1).execution_options(synchronize_session=False)
    ).rowcount
    if version is not None and not moved:
        db.session.rollback()
        task = db.session.get(CareTask, ids[0])
        if task is not None and task.status == "open":
            raise Conflict(current=current_values(task))
    audit.record(actor, "update", "care_task", str(ids[0]) if len(ids) == 1 else None,
                 {"after": {"assignee_id": target.id, "tasks": ids}})
    db.session.commit()
    return moved


def api_update(task_id: int, data: dict[str, Any], actor: Actor, version: Any = None) -> CareTask:
    """PUT /api/v1/care_tasks/<id>: {"outcome", "notes"} completes; {"assignee_id"} reassigns.
    `version` (as read from the API) is checked once, before either change: a stale one is a Conflict."""
    task = get_task(task_id, actor)
    _check_version(task, version)
    if "assignee_id" in data:
        reassign([task_id], data["assignee_id"], actor, version=task.version)
        db.session.expire_all()
        if "outcome" not in data:
            return get_task(task_id, actor)
    if "outcome" in data:
        return complete(task_id, data.get("outcome"), data.get("notes"), actor)
    raise Invalid({"outcome": _("Give an outcome (and notes), or an assignee_id.")})


# --- reading: agenda, calendar, team, 360 --------------------------------------------------------

TABS = ("today", "overdue", "week")


def _tab_condition(tab: str, today: dt.date) -> Any:
    if tab == "overdue":
        return CareTask.due_date < today
    if tab == "week":
        return (CareTask.due_date > today) & (CareTask.due_date <= today + dt.timedelta(days=7))
    return CareTask.due_date == today


def my_open_tasks(actor: Actor) -> Any:
    return select(CareTask).where(CareTask.status == "open", CareTask.assignee_id == actor.id)


def agenda(actor: Actor, tab: str, today: dt.date, limit: int = 200) -> list[CareTask]:
    stmt = (my_open_tasks(actor).where(_tab_condition(tab, today))
            .options(selectinload(CareTask.rule), selectinload(CareTask.customer).selectinload(Customer.plan))
            # "high" sorts before "normal": ascending puts urgent tasks first (ix_care_task_agenda's order).
            .order_by(CareTask.due_date, CareTask.priority, CareTask.id).limit(limit))
    return list(db.session.execute(stmt).scalars())


def _open_by_day(actor: Actor, *conditions: Any) -> dict[dt.date, int]:
    """The actor's open tasks per due day, from `care_task_daily` (kept by triggers on care_task).

    Counting care_task itself costs ~100 ms a page for an assignee with 58,000 open tasks at a
    million customers; the summary has one row per day (plus deltas until the next fold)."""
    rows = db.session.execute(
        select(CareTaskDaily.due_date, func.sum(CareTaskDaily.n))
        .where(CareTaskDaily.status == "open", CareTaskDaily.assignee_id == actor.id, *conditions)
        .group_by(CareTaskDaily.due_date)
    ).all()
    out: dict[dt.date, int] = {}
    for due, n in rows:
        if n:
            out[dt.date.fromisoformat(due) if isinstance(due, str) else due] = int(n)
    return out


def tab_counts(actor: Actor, today: dt.date) -> dict[str, int]:
    by_day = _open_by_day(actor)
    week_end = today + dt.timedelta(days=7)
    return {
        "today": by_day.get(today, 0),
        "overdue": sum(n for due, n in by_day.items() if due < today),
        "week": sum(n for due, n in by_day.items() if today < due <= week_end),
    }


def month_calendar(actor: Actor, month: dt.date) -> dict[dt.date, int]:
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return _open_by_day(actor, CareTaskDaily.due_date >= first, CareTaskDaily.due_date < nxt)


def arrears_amounts(customer_ids: list[int], today: dt.date) -> dict[int, Decimal]:
    if not customer_ids:
        return {}
    rows = db.session.execute(
        select(Bill.customer_id, func.sum(Bill.total - Bill.paid_amount))
        .where(Bill.customer_id.in_(customer_ids), arrears.overdue_condition(today)).group_by(Bill.customer_id)
    ).all()
    return {cid: Decimal(amount or 0).quantize(Decimal("0.01")) for cid, amount in rows}


def reason(task: CareTask) -> str:
    if task.rule is None:  # a follow-up from a sales contact log: its title says why
        return task.title or ""
    kind = KINDS.get(task.rule.kind)
    if kind is None:
        return ""
    return kind.describe(task, {**kind.default_params, **params_of(task.rule)})


@dataclass
class TeamRow:
    user_id: int | None
    username: str
    due: int
    done: int
    open_overdue: int
    open_total: int

    @property
    def rate(self) -> float | None:
        return round(100.0 * self.done / self.due, 1) if self.due else None


def team_stats(actor: Actor, today: dt.date, days: int = 30) -> list[TeamRow]:
    """Per assignee: tasks due in the last `days` days (through today), how many are done (the
    completion rate), and open tasks (overdue / in total)."""
    if not sees_all_care_tasks(actor):
        raise Forbidden()
    since = today - dt.timedelta(days=days - 1)
    # Sums over care_task_daily (task counts per assignee × due day × status, kept by care_task's
    # triggers in each write's transaction), so exact: a few thousand keys instead of every open
    # and recent task (126,720 open at 1M customers). A task completed after rescheduling keeps its
    # last due date and is counted by that date.
    D = CareTaskDaily
    in_window = (D.due_date >= since) & (D.due_date <= today)
    due = func.sum(case((in_window, D.n), else_=0))
    is_open = func.sum(case((D.status == "open", D.n), else_=0))
    counted = (select(
        D.assignee_id.label("assignee_id"), due.label("due"),
        func.sum(case((in_window & (D.status == "done"), D.n), else_=0)).label("done"),
        func.sum(case(((D.status == "open") & (D.due_date < today), D.n), else_=0)).label("overdue"),
        is_open.label("open"),
    ).where((D.status == "open") | in_window).group_by(D.assignee_id)
        # A person whose tasks all moved away keeps rows that net to 0 until compacted: not listed.
        .having((due != 0) | (is_open != 0)).subquery())
    rows = db.session.execute(
        select(counted.c.assignee_id, CrmUser.username, counted.c.due, counted.c.done, counted.c.overdue,
               counted.c.open)
        .outerjoin(CrmUser, CrmUser.id == counted.c.assignee_id).order_by(CrmUser.username)
    ).all()
    return [TeamRow(uid, name or _("Unassigned"), int(d or 0), int(k or 0), int(o or 0), int(t or 0))
            for uid, name, d, k, o, t in rows]


def team_open_tasks(actor: Actor, assignee_id: int | None = None, limit: int = 200) -> list[CareTask]:
    if not sees_all_care_tasks(actor):
        raise Forbidden()
    # One statement (each many-to-one joined, by primary key) instead of four round trips, and only
    # what the page shows of the customer and the assignee, not 200 full customer rows.
    stmt = (select(CareTask).where(CareTask.status == "open")
            .options(joinedload(CareTask.rule),
                     joinedload(CareTask.customer).load_only(Customer.id, Customer.name),
                     joinedload(CareTask.assignee).load_only(CrmUser.id, CrmUser.username))
            .order_by(CareTask.due_date, CareTask.id).limit(limit))
    if assignee_id is not None:
        stmt = stmt.where(CareTask.assignee_id == assignee_id)
    return list(db.session.execute(stmt).scalars())


def assignable_users() -> list[CrmUser]:
    return list(db.session.execute(
        select(CrmUser).where(CrmUser.active.is_(True)).order_by(CrmUser.username)).scalars())


def open_tasks_for_customer(customer_id: int, actor: Actor) -> list[CareTask]:
    stmt = scope_care_tasks(
        select(CareTask).where(CareTask.customer_id == customer_id, CareTask.status == "open")
        .options(selectinload(CareTask.rule), selectinload(CareTask.assignee))
        .order_by(CareTask.due_date), actor)
    return list(db.session.execute(stmt).scalars())
