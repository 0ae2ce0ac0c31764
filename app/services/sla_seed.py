"""SLA rows and satisfaction answers for tickets that were loaded in bulk (`crm seed`, imports).

Tickets made through the ticket service get their SLA row from the hooks; tickets loaded by the
seed's COPY do not. `backfill_statements` returns set-based SQL (SQLite or PostgreSQL) that gives
each ticket without one its SLA row — targets from its policy, breaches as its recorded first
response and resolution imply — and each resolved ticket a survey, about 40 % of them answered.
Historical breaches are marked as already escalated, so the minute job does not escalate history.
Seeded surveys have no link (their `token_hash` is not a hash of any token).
"""

from __future__ import annotations

import datetime as dt

SURVEY_DAYS = 30


def _plus(pg: bool, col: str, amount: str, unit: str) -> str:
    if pg:
        return f"({col} + ({amount}) * INTERVAL '1 {unit}')"
    return f"datetime({col}, '+' || ({amount}) || ' {unit}s')"


def backfill_statements(pg: bool, now: dt.datetime) -> list[str]:
    """INSERT … SELECT statements, safe to run again (they skip tickets that already have rows)."""
    stamp = f"'{now:%Y-%m-%d %H:%M:%S}'"
    now_sql = f"CAST({stamp} AS TIMESTAMP)" if pg else stamp
    created = "t.created_at"
    r_warn = _plus(pg, created, "p.response_minutes * 60 * p.warn_percent / 100", "second")
    r_due = _plus(pg, created, "p.response_minutes", "minute")
    s_warn = _plus(pg, created, "p.resolve_minutes * 60 * p.warn_percent / 100", "second")
    s_due = _plus(pg, created, "p.resolve_minutes", "minute")
    answered = f"COALESCE(t.first_response_at, {now_sql})"
    stopped = "COALESCE(t.resolved_at, t.closed_at)"
    done = f"COALESCE({stopped}, {now_sql})"
    sla = f"""
INSERT INTO ticket_sla (ticket_id, ticket_type, policy_id, response_minutes, resolve_minutes, started_at,
    response_warn_at, response_due, resolve_warn_at, resolve_due, paused_seconds, responded_at, stopped_at,
    response_warned_at, resolve_warned_at, response_breached_at, resolve_breached_at,
    response_escalated_at, resolve_escalated_at, resolve_breaches)
SELECT t.id, t.ticket_type, p.id, p.response_minutes, p.resolve_minutes, {created},
    {r_warn}, {r_due}, {s_warn}, {s_due}, 0, t.first_response_at, {stopped},
    CASE WHEN {answered} >= {r_warn} THEN {r_warn} END,
    CASE WHEN {done} >= {s_warn} THEN {s_warn} END,
    CASE WHEN {answered} >= {r_due} THEN {r_due} END,
    CASE WHEN {done} >= {s_due} THEN {s_due} END,
    CASE WHEN {answered} >= {r_due} THEN {r_due} END,
    CASE WHEN {done} >= {s_due} THEN {s_due} END,
    CASE WHEN {done} >= {s_due} THEN 1 ELSE 0 END
FROM ticket t JOIN sla_policy p ON p.ticket_type = t.ticket_type AND p.priority = t.priority
WHERE NOT EXISTS (SELECT 1 FROM ticket_sla s WHERE s.ticket_id = t.id)"""  # noqa: S608 - constants only
    mix = "((t.id * 37) % 10)"
    score = (f"CASE WHEN {mix} = 0 THEN 1 WHEN {mix} = 1 THEN 2 WHEN {mix} < 4 THEN 3 "
             f"WHEN {mix} < 7 THEN 4 ELSE 5 END")
    answered_at = _plus(pg, "t.resolved_at", "180", "minute")
    take = f"(t.id % 5 < 2 AND {answered_at} < {now_sql})"
    survey = f"""
INSERT INTO survey (token_hash, subject_type, subject_id, customer_id, created_at, expires_at, answered_at, score)
SELECT 'seed:' || CAST(t.id AS VARCHAR(12)), 'ticket', t.id, t.customer_id, t.resolved_at,
    {_plus(pg, "t.resolved_at", str(SURVEY_DAYS), "day")},
    CASE WHEN {take} THEN {answered_at} END, CASE WHEN {take} THEN {score} END
FROM ticket t
WHERE t.resolved_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM survey s WHERE s.subject_type = 'ticket' AND s.subject_id = t.id)"""  # noqa: S608 - constants only
    return [sla.strip(), survey.strip()]


def backfill(now: dt.datetime) -> None:
    """Run the statements on the app's database and commit (for `crm seed` and after an import)."""
    from sqlalchemy import text

    from app.extensions import db

    pg = db.session.get_bind().dialect.name == "postgresql"
    for statement in backfill_statements(pg, now):
        db.session.execute(text(statement))
    db.session.commit()
