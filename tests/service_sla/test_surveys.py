"""Satisfaction surveys: issued on resolution, answered once without login, expiring, scoped in the API."""

from __future__ import annotations

import datetime as dt
import re

from app.extensions import db
from app.models.base import utcnow
from app.models.survey import Survey
from app.services import surveys, tickets
from tests.conftest import actor_for
from tests.http.test_masking import csrf_on
from tests.service_sla.conftest import T0, new_ticket


def resolved_ticket(username: str = "agent1") -> object:
    agent = actor_for(username)
    ticket = new_ticket(username=username)
    tickets.take(ticket.id, agent, at=T0 + dt.timedelta(minutes=1))
    return tickets.resolve(ticket.id, {"resolution": "Replaced the SIM card."}, agent,
                           at=T0 + dt.timedelta(minutes=20))


def test_resolving_a_ticket_issues_one_survey(ctx):
    ticket = resolved_ticket()
    result = surveys.for_subject("ticket", ticket.id)
    assert len(result.surveys) == 1
    survey = result.surveys[0]
    assert survey.customer_id == ticket.customer_id and survey.answered_at is None
    assert survey.expires_at - survey.created_at == dt.timedelta(days=surveys.VALID_DAYS)


def test_link_is_answered_once_without_login(ctx, client):
    ticket = resolved_ticket()
    survey = surveys.issue("ticket", ticket.id, ticket.customer_id)
    db.session.commit()
    assert survey.url == f"/survey/{survey.token}" and len(survey.token) >= 40
    assert survey.token_hash != survey.token  # only the hash is stored

    page = client.get(survey.url)
    assert page.status_code == 200 and 'name="score"' in page.get_data(as_text=True)
    done = client.post(survey.url, data={"score": "5", "comment": "问题很快解决了"})
    assert done.status_code == 200 and "crm-survey-thanks" in done.get_data(as_text=True)
    again = client.post(survey.url, data={"score": "1", "comment": "changed my mind"})
    assert again.status_code == 409
    assert "crm-survey-closed" in again.get_data(as_text=True)

    db.session.expire_all()
    stored = db.session.get(Survey, survey.id)
    assert (stored.score, stored.comment) == (5, "问题很快解决了")
    assert surveys.for_subject("ticket", ticket.id).latest_score == 5
    assert client.get(survey.url).status_code == 409  # the page says so too


def test_bad_score_is_refused_on_the_form_and_nothing_is_stored(ctx, client):
    survey = surveys.issue("ticket", resolved_ticket().id, None)
    db.session.commit()
    resp = client.post(survey.url, data={"score": "7", "comment": "x"})
    assert resp.status_code == 422 and "has-error" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).answered_at is None


def test_expired_and_unknown_links_are_refused(ctx, client):
    old = surveys.issue("ticket", resolved_ticket().id, None, now=utcnow() - dt.timedelta(days=31))
    db.session.commit()
    assert client.get(old.url).status_code == 410
    assert client.post(old.url, data={"score": "4"}).status_code == 410
    assert client.get("/survey/not-a-real-token").status_code == 404
    db.session.expire_all()
    assert db.session.get(Survey, old.id).answered_at is None


def test_the_form_needs_its_csrf_token(app, ctx, client):
    survey = surveys.issue("ticket", resolved_ticket().id, None)
    db.session.commit()
    with csrf_on(app):
        refused = client.post(survey.url, data={"score": "4"})
        assert refused.status_code in (302, 400)
        html = client.get(survey.url).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        ok = client.post(survey.url, data={"score": "4", "csrf_token": token})
    assert ok.status_code == 200
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).score == 4


def test_surveys_api_follows_the_ticket_rows(ctx, client, api_token):
    ticket = resolved_ticket("agent1")
    survey_id = surveys.for_subject("ticket", ticket.id).surveys[0].id
    listed = client.get("/api/v1/surveys/", headers=api_token("manager")).get_json()
    assert [r["id"] for r in listed["result"]] == [survey_id]
    assert "token_hash" not in listed["result"][0]
    assert client.get(f"/api/v1/surveys/{survey_id}", headers=api_token("agent1")).status_code == 200
    assert client.get(f"/api/v1/surveys/{survey_id}", headers=api_token("agent2")).status_code == 404
    assert client.get("/api/v1/surveys/", headers=api_token("agent2")).get_json()["count"] == 0
    assert client.get("/api/v1/surveys/", headers=api_token("sales1")).status_code in (401, 403)
    created = client.post("/api/v1/surveys/", json={"score": 5}, headers=api_token("manager"))
    assert created.status_code in (403, 405)  # read-only resource
    assert db.session.query(Survey).count() == 1


def test_a_new_survey_for_the_same_ticket_retires_the_unanswered_one(ctx, client):
    ticket = resolved_ticket()
    first = surveys.issue("ticket", ticket.id, None)
    db.session.commit()
    second = surveys.issue("ticket", ticket.id, None)
    db.session.commit()
    assert client.get(first.url).status_code == 410
    assert client.post(second.url, data={"score": "3"}).status_code == 200
