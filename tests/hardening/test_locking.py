"""Issue 7.5: no lost updates. Two people edit the same record; the second gets a conflict.

Pages: the second save shows a warning naming the first person's values, keeps the second person's
input on the form, and leaves the stored record as the first person saved it; saving again (having
seen the warning) overwrites on purpose. API: a stale `version` is 409 with the current values.
Reference data (kb categories, playbook actions, routing rules, SLA policies) survives between tests,
so each test puts back the column it edited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models.contact_log import ContactLog
from app.models.kb import KbCategory
from app.models.plan import Plan
from app.models.sales_playbook import PlaybookAction
from app.models.sla import SlaPolicy
from app.models.subscription import Subscription
from app.models.ticket import TicketRoutingRule
from app.models.vas import ValueAddedService
from tests.conftest import login
from tests.http.conftest import flashes, form_of


@dataclass(frozen=True)
class Case:
    route: str
    model: type
    field: str
    first: str
    second: str
    seeded: bool = False  # a business table: seed it (reference data is there already)


UI_CASES = {
    "kb_category": Case("/kb/categories", KbCategory, "name", "Roaming (first)", "Roaming (second)"),
    "playbook_action": Case("/sales-playbook", PlaybookAction, "title", "Call back (first)", "Call back (second)"),
    "ticket_routing_rule": Case("/ticket-routing", TicketRoutingRule, "name", "Fault (first)", "Fault (second)"),
    "sla_policy": Case("/sla-policies", SlaPolicy, "response_minutes", "41", "42"),
    "plan": Case("/plans", Plan, "name", "Unlimited (first)", "Unlimited (second)", seeded=True),
    "value_added_service": Case("/value-added-services", ValueAddedService, "name", "Ring (first)",
                                "Ring (second)", seeded=True),
    "contact_log": Case("/contact-logs", ContactLog, "content", "Called, no answer (first)",
                        "Called, left a message (second)", seeded=True),
}
API_CASES = {
    "plans": (Plan, "name", "Unlimited (API)"),
    "value_added_services": (ValueAddedService, "name", "Ring (API)"),
    "contact_logs": (ContactLog, "content", "Visited the shop (API)"),
}


def client_for(app: Any, username: str) -> Any:
    client = app.test_client()
    login(client, username)
    return client


@pytest.fixture
def record(app: Any) -> Iterator[Any]:
    """`record(model, field, seeded)` → the id of a record to edit; the field is put back afterwards."""
    restore: list[tuple[type, int, str, Any, int]] = []

    def _pick(model: type, field: str, seeded: bool) -> int:
        with app.app_context():
            if seeded:
                from app.services import seed

                seed.run(3, months=1, random_seed=5)
            pk = db.session.execute(select(func.min(model.id))).scalar_one()
            row = db.session.get(model, pk)
            if not seeded:
                restore.append((model, pk, field, getattr(row, field), row.version))
            return pk

    yield _pick
    with app.app_context():
        for model, pk, field, value, version in restore:
            db.session.execute(update(model).where(model.id == pk).values({field: value, "version": version})
                               .execution_options(synchronize_session=False))
        db.session.commit()


def stored(app: Any, model: type, pk: int, field: str) -> Any:
    with app.app_context():
        row = db.session.get(model, pk)
        return str(getattr(row, field)), row.version


@pytest.mark.parametrize("name", list(UI_CASES))
def test_second_editor_on_a_page_sees_a_conflict_and_keeps_their_input(app: Any, record: Any, name: str) -> None:
    case = UI_CASES[name]
    pk = record(case.model, case.field, case.seeded)
    first, second = client_for(app, "admin2"), client_for(app, "manager")
    form1 = form_of(first.get(f"{case.route}/edit/{pk}")).values
    form2 = form_of(second.get(f"{case.route}/edit/{pk}")).values
    _, version = stored(app, case.model, pk, case.field)
    assert form1["version"] == form2["version"] == str(version)

    form1[case.field] = case.first
    resp = first.post(f"{case.route}/edit/{pk}", data=form1)
    assert resp.status_code == 302, flashes(resp, "danger") or form_of(resp).errors
    assert stored(app, case.model, pk, case.field) == (case.first, version + 1)

    form2[case.field] = case.second
    resp = second.post(f"{case.route}/edit/{pk}", data=form2)
    assert resp.status_code == 200
    assert case.first in " ".join(flashes(resp, "warning"))  # the other person's value is shown
    again = form_of(resp).values
    assert again[case.field].strip() == case.second  # the user's own input is still on the form
    assert again["version"] == str(version + 1)
    assert stored(app, case.model, pk, case.field) == (case.first, version + 1)  # nothing overwritten

    # Having seen the warning, saving again overwrites on purpose.
    assert second.post(f"{case.route}/edit/{pk}", data=again).status_code == 302
    assert stored(app, case.model, pk, case.field) == (case.second, version + 2)


@pytest.mark.parametrize("resource", list(API_CASES))
def test_stale_version_on_the_api_is_409_with_the_current_values(app: Any, api_token: Any, record: Any,
                                                                  resource: str) -> None:
    model, field, value = API_CASES[resource]
    pk = record(model, field, True)
    before, version = stored(app, model, pk, field)
    client = app.test_client()
    first, second = api_token("admin2"), api_token("manager")
    resp = client.put(f"/api/v1/{resource}/{pk}", json={field: value, "version": version}, headers=first)
    assert resp.status_code == 200, resp.get_json()
    resp = client.put(f"/api/v1/{resource}/{pk}", json={field: "lost update", "version": version}, headers=second)
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["current"][field] == value
    assert stored(app, model, pk, field) == (value, version + 1)
    resp = client.put(f"/api/v1/{resource}/{pk}", json={field: "junk", "version": "abc"}, headers=second)
    assert resp.status_code == 422 and "version" in resp.get_json()["message"]


def test_plan_change_on_a_stale_line_is_a_conflict_on_the_page_and_the_api(app: Any, api_token: Any) -> None:
    from app.services import seed

    with app.app_context():
        seed.run(3, months=1, random_seed=5)
        sub = db.session.execute(select(Subscription).where(Subscription.status == "active")
                                 .order_by(Subscription.id).limit(1)).scalar_one()
        pk, version, plan_id = sub.id, sub.version, sub.plan_id
        others = db.session.execute(select(Plan.id).where(Plan.active.is_(True), Plan.id != plan_id)
                                    .order_by(Plan.id).limit(2)).scalars().all()
    first, second = client_for(app, "admin2"), client_for(app, "manager")
    page = second.get(f"/subscriptions/{pk}/change-plan")
    assert form_of(page).values["version"] == str(version)
    resp = first.post(f"/subscriptions/{pk}/change-plan", data={"plan_id": others[0], "version": version})
    assert resp.status_code == 302
    resp = second.post(f"/subscriptions/{pk}/change-plan", data={"plan_id": others[1], "version": version})
    assert resp.status_code == 200 and flashes(resp, "warning")
    kept = form_of(resp).values
    assert kept["plan_id"] == str(others[1]) and kept["version"] == str(version + 1)
    with app.app_context():
        assert db.session.get(Subscription, pk).plan_id == others[0]

    client = app.test_client()
    resp = client.post(f"/api/v1/subscriptions/{pk}/change_plan", json={"plan_id": plan_id, "version": version},
                       headers=api_token("manager"))
    assert resp.status_code == 409 and "plan" in resp.get_json()["current"]
    resp = client.post(f"/api/v1/subscriptions/{pk}/change_plan", json={"plan_id": plan_id, "version": version + 1},
                       headers=api_token("manager"))
    assert resp.status_code == 200, resp.get_json()
