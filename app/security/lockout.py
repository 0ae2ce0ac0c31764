"""Sign-in lockout: too many failed sign-ins lock the account, and the address they came from.

Defaults (config.py, environment): CRM_LOCKOUT_ATTEMPTS=5 failures of one account within
CRM_LOCKOUT_WINDOW_MINUTES=15 lock that account for CRM_LOCKOUT_MINUTES=15; CRM_LOCKOUT_IP_ATTEMPTS=20
failures from one address (any accounts) lock that address likewise. The address limit is higher
because a call centre often signs in from behind one NAT address; set it to 5 for the strict rule.

A successful sign-in clears the account's count (not the address's: one valid account must not
reset an attacker's address). While locked, even the right password is refused and the attempt
is recorded as `blocked` (it does not extend the lock). Each lock is written to the audit log
(action `lockout`). Works for the form sign-in and `POST /api/v1/security/login` alike, because
both go through `CrmSecurityManager.auth_user_db`; the API answers 429 with Retry-After.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext
from sqlalchemy import delete, select

from app.extensions import db
from app.models.base import utcnow
from app.models.hardening import LoginAttempt


@dataclass(frozen=True)
class Lock:
    scope: str  # "account" or "address"
    until: dt.datetime
    started: dt.datetime

    def seconds_left(self, now: dt.datetime | None = None) -> int:
        return max(1, math.ceil((self.until - (now or utcnow())).total_seconds()))

    def message(self) -> str:
        minutes = max(1, math.ceil(self.seconds_left() / 60))
        if self.scope == "account":
            return gettext("Too many failed sign-ins for this account. Try again in %(minutes)d minutes.",
                           minutes=minutes)
        return gettext("Too many failed sign-ins from this address. Try again in %(minutes)d minutes.",
                       minutes=minutes)


def _settings() -> tuple[int, int, dt.timedelta, dt.timedelta]:
    cfg = current_app.config
    return (int(cfg.get("CRM_LOCKOUT_ATTEMPTS", 5)), int(cfg.get("CRM_LOCKOUT_IP_ATTEMPTS", 20)),
            dt.timedelta(minutes=float(cfg.get("CRM_LOCKOUT_WINDOW_MINUTES", 15))),
            dt.timedelta(minutes=float(cfg.get("CRM_LOCKOUT_MINUTES", 15))))


def normalise(username: str | None) -> str:
    return (username or "").strip().lower()[:64]


def _lock_from(times: list[dt.datetime], limit: int, window: dt.timedelta,
               duration: dt.timedelta) -> tuple[dt.datetime, dt.datetime] | None:
    """The latest (started, until) lock implied by these failure times (ascending), if any."""
    lock: tuple[dt.datetime, dt.datetime] | None = None
    recent: deque[dt.datetime] = deque()
    for t in times:
        if lock and t < lock[1]:
            continue
        recent.append(t)
        while recent and recent[0] <= t - window:
            recent.popleft()
        if len(recent) >= limit:
            lock = (t, t + duration)
            recent.clear()
    return lock


def _failure_times(column, value: str, since: dt.datetime) -> list[dt.datetime]:  # noqa: ANN001
    return list(db.session.execute(
        select(LoginAttempt.created_at)
        .where(column == value, LoginAttempt.outcome == "failure", LoginAttempt.created_at >= since)
        .order_by(LoginAttempt.created_at)
    ).scalars())


def status(username: str | None, ip: str | None, now: dt.datetime | None = None) -> Lock | None:
    """The lock in force for this account or address right now, if any (account first)."""
    now = now or utcnow()
    max_account, max_ip, window, duration = _settings()
    since = now - window - duration
    name = normalise(username)
    if name:
        last_ok = db.session.execute(
            select(LoginAttempt.created_at)
            .where(LoginAttempt.username == name, LoginAttempt.outcome == "success")
            .order_by(LoginAttempt.created_at.desc()).limit(1)
        ).scalar()
        times = _failure_times(LoginAttempt.username, name, max(since, last_ok) if last_ok else since)
        if last_ok:
            times = [t for t in times if t > last_ok]
        found = _lock_from(times, max_account, window, duration)
        if found and found[1] > now:
            return Lock("account", found[1], found[0])
    if ip:
        found = _lock_from(_failure_times(LoginAttempt.ip, ip, since), max_ip, window, duration)
        if found and found[1] > now:
            return Lock("address", found[1], found[0])
    return None


def record(username: str | None, ip: str | None, outcome: str, user_id: int | None = None) -> Lock | None:
    """Record one attempt (in the caller's transaction). Returns the lock this failure started, if
    it started one, after writing it to the audit log."""
    name = normalise(username)
    now = utcnow()
    db.session.add(LoginAttempt(created_at=now, username=name, ip=ip, outcome=outcome))
    db.session.flush()
    if outcome == "success":
        # Old rows of this account are no longer needed for any window.
        _, _, window, duration = _settings()
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == name,
                                                      LoginAttempt.created_at < now - window - duration))
        return None
    if outcome != "failure":
        return None
    lock = status(name, ip, now)
    if lock is None or lock.started != now:
        return None
    from app.services import audit
    from app.services.actor import Actor

    audit.record(Actor(id=user_id, username=name, ip=ip), "lockout", "user", user_id,
                 {"scope": lock.scope, "username": name, "ip": ip,
                  "until": lock.until.isoformat(timespec="seconds")})
    return lock
