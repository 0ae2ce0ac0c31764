"""SLA clocks with a fake clock: warning, breach and escalation exactly once; pause while waiting."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.extensions import db
from app.models.sla import SlaPolicy
from app.models.ticket import TicketEvent
from app.services import jobs, sla, tickets
from tests.conftest import actor_for
from tests.service_sla.conftest import T0, new_ticket

MINUTE = dt.timedelta(minutes=1)


def escalations(ticket_id: int) -> list[TicketEvent]:
    db.session.expire_all()
    return list(db.session.execute(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "escalation").order_by(TicketEvent.id)).scalars())


def test_clocks_start_from_the_policy_of_type_and_priority(ctx, sla_row):
    ticket = new_ticket(ticket_type="complaint", priority="high")
    policy = db.session.execute(select(SlaPolicy).where(
        SlaPolicy.ticket_type == ticket.ticket_type, SlaPolicy.priority == ticket.priority)).scalar_one()
    row = sla_row(ticket.id)
    assert row.response_due == T0 + dt.timedelta(minutes=policy.response_minutes)
    assert row.resolve_due == T0 + dt.timedelta(minutes=policy.resolve_minutes)
    assert row.response_warn_at == T0 + dt.timedelta(seconds=policy.response_minutes * 60 * policy.warn_percent // 100)


def test_every_type_and_priority_has_a_shipped_policy(ctx):
    from app.models.ticket import PRIORITIES, TYPES

    pairs = set(db.session.execute(select(SlaPolicy.ticket_type, SlaPolicy.priority)).tuples())
    assert pairs >= {(t, p) for t in TYPES for p in PRIORITIES}


def test_warning_then_breach_then_one_escalation_to_the_manager(ctx, sla_row):
    ticket_id = new_ticket().id
    row = sla_row(ticket_id)
    warn_at, due = row.response_warn_at, row.response_due

    assert sla.check(warn_at - MINUTE).as_dict() == {"warnings": 0, "breaches": 0, "escalations": 0}
    assert sla.check(warn_at).warnings == 1
    assert sla_row(ticket_id).response_warned_at == warn_at
    assert sla.check(warn_at + MINUTE).warnings == 0  # marked once

    result = sla.check(due)
    assert (result.breaches, result.escalations) == (1, 1)
    manager = actor_for("manager")
    events = escalations(ticket_id)
    assert len(events) == 1
    assert events[0].assignee_id == manager.id and events[0].actor_id is None and events[0].at == due
    assert sla_row(ticket_id).escalated_to_id == manager.id

    # Later runs — scheduled, manual, after a "restart" (a fresh session) — never escalate it again.
    assert sla.check(due + 5 * MINUTE).escalations == 0
    db.session.remove()
    run = jobs.execute("sla_check", trigger="manual", now=due + 10 * MINUTE)
    assert run.status == "success" and '"escalations": 0' in run.counts
    jobs.execute("sla_check", trigger="schedule", now=due + 11 * MINUTE)
    assert len(escalations(ticket_id)) == 1


def test_resolution_breach_is_a_second_breach_escalated_once(ctx, sla_row):
    ticket = new_ticket()
    row = sla_row(ticket.id)
    sla.check(row.response_due)
    assert len(escalations(ticket.id)) == 1
    for minutes in (0, 1, 60):
        sla.check(row.resolve_due + minutes * MINUTE)
    events = escalations(ticket.id)
    assert len(events) == 2
    assert "Resolution" in events[1].body and "First-response" in events[0].body


def test_answered_ticket_has_no_response_breach(ctx, sla_row):
    ticket = new_ticket()
    agent = actor_for("agent1")
    tickets.take(ticket.id, agent, at=T0 + 5 * MINUTE)
    row = sla_row(ticket.id)
    assert row.responded_at == T0 + 5 * MINUTE
    result = sla.check(row.response_due + MINUTE)
    assert result.breaches == 0 and escalations(ticket.id) == []


def test_resolved_ticket_stops_the_clock(ctx, sla_row):
    ticket = new_ticket()
    agent = actor_for("agent1")
    tickets.take(ticket.id, agent, at=T0 + MINUTE)
    tickets.resolve(ticket.id, {"resolution": "Reset the line."}, agent, at=T0 + 30 * MINUTE)
    row = sla_row(ticket.id)
    assert row.stopped_at == T0 + 30 * MINUTE
    assert sla.check(row.resolve_due + dt.timedelta(days=3)).as_dict() == {
        "warnings": 0, "breaches": 0, "escalations": 0}
    assert sla.for_ticket(ticket.id, now=T0 + dt.timedelta(days=5)).state == "met"


def test_clock_pauses_while_waiting_for_the_customer(ctx, sla_row):
    ticket = new_ticket()
    agent = actor_for("agent1")
    tickets.take(ticket.id, agent, at=T0 + 5 * MINUTE)
    due = sla_row(ticket.id).resolve_due
    tickets.wait_for_customer(ticket.id, "Please send a photo of the router lights.", agent,
                              at=T0 + 10 * MINUTE)
    assert sla_row(ticket.id).paused_since == T0 + 10 * MINUTE

    # Long past the original due time while waiting: no warning, no breach.
    assert sla.check(due + dt.timedelta(hours=1)).as_dict() == {"warnings": 0, "breaches": 0, "escalations": 0}
    assert sla.for_ticket(ticket.id, now=due + dt.timedelta(hours=1)).state == "paused"

    waited = dt.timedelta(hours=3)
    tickets.add_note(ticket.id, "Photo sent: the DSL light blinks.", agent, kind="customer_reply",
                     at=T0 + 10 * MINUTE + waited)
    row = sla_row(ticket.id)
    assert row.paused_since is None and row.paused_seconds == waited.total_seconds()
    assert row.resolve_due == due + waited  # the due time moved by the time spent waiting

    assert sla.check(due + MINUTE).breaches == 0
    assert sla.check(due + waited).breaches == 1
    assert len(escalations(ticket.id)) == 1


def test_reopened_ticket_gets_a_new_resolution_clock(ctx, sla_row):
    ticket = new_ticket()
    agent = actor_for("agent1")
    tickets.take(ticket.id, agent, at=T0 + MINUTE)
    tickets.resolve(ticket.id, {"resolution": "Reset the line."}, agent, at=T0 + 10 * MINUTE)
    reopened_at = T0 + dt.timedelta(days=1)
    tickets.reopen(ticket.id, "Still no signal.", agent, at=reopened_at)
    row = sla_row(ticket.id)
    assert row.stopped_at is None
    assert row.resolve_due == reopened_at + dt.timedelta(minutes=row.resolve_minutes)


def test_policy_edit_is_validated_and_audited(ctx):
    from app.models.audit_log import AuditLog
    from app.services import sla_policies
    from app.services.errors import Invalid

    policy = db.session.execute(select(SlaPolicy).where(
        SlaPolicy.ticket_type == "fault", SlaPolicy.priority == "urgent")).scalar_one()
    manager = actor_for("manager")
    before = policy.resolve_minutes
    try:
        try:
            sla_policies.update(policy.id, {"resolve_minutes": 1}, manager)
        except Invalid as exc:
            assert "resolve_minutes" in exc.errors
        else:
            raise AssertionError("a resolution target shorter than the response target was accepted")
        sla_policies.update(policy.id, {"resolve_minutes": before + 30}, manager)
        entries = db.session.execute(select(func.count()).select_from(AuditLog).where(
            AuditLog.entity == "sla_policy", AuditLog.entity_id == str(policy.id))).scalar()
        assert entries == 1
    finally:
        sla_policies.update(policy.id, {"resolve_minutes": before}, manager)


def test_sla_check_is_a_minute_job_listed_by_the_cli(app, ctx):
    from app.jobs import get

    job = get("sla_check")
    assert (job.trigger, job.trigger_args) == ("interval", {"minutes": 1})
    result = app.test_cli_runner().invoke(args=["crm", "jobs", "list"])
    assert result.exit_code == 0 and any(line.startswith("sla_check") for line in result.output.splitlines())


def test_breach_before_a_reopen_still_counts_and_a_new_breach_escalates_once(ctx, sla_row):
    from app.services import service_stats

    ticket = new_ticket()
    agent = actor_for("agent1")
    tickets.take(ticket.id, agent, at=T0 + MINUTE)
    first_due = sla_row(ticket.id).resolve_due
    sla.check(first_due)
    tickets.resolve(ticket.id, {"resolution": "Reset the line."}, agent, at=first_due + MINUTE)
    reopened_at = first_due + dt.timedelta(hours=2)
    tickets.reopen(ticket.id, "Still no signal.", agent, at=reopened_at)
    row = sla_row(ticket.id)
    assert row.resolve_breached_at is None and row.resolve_breaches == 1
    period = service_stats.period("2026-03-01", "2026-03-31")
    assert service_stats.sla_breaches(period)[0] == ("*", 1, 1, 100.0)

    for minutes in (0, 1, 2):
        sla.check(row.resolve_due + minutes * MINUTE)
    assert [e.body.startswith("Resolution") for e in escalations(ticket.id)] == [True, True]
    assert sla_row(ticket.id).resolve_breaches == 2
