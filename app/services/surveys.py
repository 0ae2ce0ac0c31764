"""Satisfaction surveys answered by customers without logging in (issue 4, point 7).

`issue("ticket", id, customer_id)` is called by the ticket service when a ticket is resolved and
joins its transaction. The link carries a random token (`secrets.token_urlsafe`); only its SHA-256
is stored. A survey is answered once: the answer is an `UPDATE … WHERE answered_at IS NULL`, so a
second submission — even at the same moment — is refused. Links expire after `VALID_DAYS`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.models.base import utcnow
from app.models.survey import SUBJECT_TYPES, Survey
from app.services import audit
from app.services.errors import CrmError, Invalid, NotFound
from app.services.validation import FieldError, check_int, check_text

VALID_DAYS = 30
SCORES = (1, 2, 3, 4, 5)
COMMENT_LIMIT = 1000


class SurveyAnswered(CrmError):
    status = 409
    message = _l("This survey has already been answered. Thank you!")


class SurveyExpired(CrmError):
    status = 410
    message = _l("This survey link has expired.")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(subject_type: str, subject_id: int, customer_id: int | None,
          now: dt.datetime | None = None) -> Survey | None:
    """Create a single-use survey for e.g. ("ticket", 42); returns it with `.token` and `.url`.

    Joins the caller's transaction (flushes, never commits). Returns None for an unknown subject type.
    """
    if subject_type not in SUBJECT_TYPES:
        return None
    now = now or utcnow()
    # A ticket resolved again (after a reopen) asks again; the earlier, unanswered link stops working.
    db.session.execute(
        update(Survey).where(Survey.subject_type == subject_type, Survey.subject_id == int(subject_id),
                             Survey.answered_at.is_(None), Survey.expires_at > now)
        .values(expires_at=now).execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    survey = Survey(token_hash=token_hash(token), subject_type=subject_type, subject_id=int(subject_id),
                    customer_id=customer_id, created_at=now, expires_at=now + dt.timedelta(days=VALID_DAYS))
    db.session.add(survey)
    db.session.flush()
    survey.token = token
    return survey


def find(token: str | None) -> Survey | None:
    """The survey behind a link's token, or None (unknown or malformed token)."""
    if not token or len(token) > 128:
        return None
    return db.session.execute(select(Survey).where(Survey.token_hash == token_hash(token))).scalar()


def check_open(token: str | None, now: dt.datetime | None = None) -> Survey:
    """The survey if it may still be answered; NotFound, SurveyAnswered or SurveyExpired otherwise."""
    survey = find(token)
    if survey is None:
        raise NotFound(_("This survey link is not valid."))
    if survey.answered_at is not None:
        raise SurveyAnswered()
    if (now or utcnow()) >= survey.expires_at:
        raise SurveyExpired()
    return survey


def answer(token: str | None, score: Any, comment: Any, now: dt.datetime | None = None,
           ip: str | None = None) -> Survey:
    """Record the customer's answer once; a second answer raises SurveyAnswered. Commits."""
    now = now or utcnow()
    survey = check_open(token, now)
    errors: dict[str, str] = {}
    try:
        value = check_int(score, minimum=1, maximum=5)
    except FieldError as exc:
        errors["score"] = str(exc)
    try:
        text = check_text(comment, COMMENT_LIMIT)
    except FieldError as exc:
        errors["comment"] = str(exc)
    if errors:
        raise Invalid(errors)
    won = db.session.execute(
        update(Survey).where(Survey.id == survey.id, Survey.answered_at.is_(None))
        .values(answered_at=now, score=value, comment=text)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        db.session.rollback()
        raise SurveyAnswered()
    audit.record(None, "answer", "survey", survey.id,
                 {"after": {"score": value, "subject": f"{survey.subject_type}:{survey.subject_id}"},
                  "ip": ip})
    db.session.commit()
    db.session.refresh(survey)
    return survey


@dataclass
class SubjectResult:
    """What a ticket page shows: the surveys sent for it and their answers."""

    surveys: list[Survey]

    @property
    def answered(self) -> list[Survey]:
        return [s for s in self.surveys if s.answered_at is not None]

    @property
    def latest_score(self) -> int | None:
        answered = self.answered
        return answered[-1].score if answered else None


def for_subject(subject_type: str, subject_id: int) -> SubjectResult:
    """Every survey issued for e.g. ("ticket", 42), oldest first."""
    rows = db.session.execute(
        select(Survey).where(Survey.subject_type == subject_type, Survey.subject_id == int(subject_id))
        .order_by(Survey.id)
    ).scalars()
    return SubjectResult(list(rows))


def scores_for(subject_type: str, subject_ids: list[int]) -> dict[int, int]:
    """Latest answered score per subject id, in one query (for lists such as the customer 360)."""
    if not subject_ids:
        return {}
    rows = db.session.execute(
        select(Survey.subject_id, Survey.score).where(
            Survey.subject_type == subject_type, Survey.subject_id.in_(subject_ids),
            Survey.answered_at.is_not(None)).order_by(Survey.answered_at)
    ).all()
    return {sid: score for sid, score in rows}
