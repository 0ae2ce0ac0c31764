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
from app.models.campaign import Campaign
from app.models.care import CareRule
from app.models.contact_log import ContactLog
from app.models.kb import KbArticle, KbCategory
from app.models.lead import Lead
from app.models.message import MessageTemplate
from app.models.opportunity import Opportunity
from app.models.order import SalesOrder
from app.models.plan import Plan
from app.models.sales_playbook import PlaybookAction
from app.models.sla import SlaPolicy
from app.models.subscription import Subscription
from app.models.ticket import TicketRoutingRule
from app.models.vas import ValueAddedService
from tests.conftest import login
from tests.http.conftest import flashes, form_of, tr


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
    "care_rule": Case("/care-rules", CareRule, "name", "Birthday call (first)", "Birthday call (second)"),
    "message_template": Case("/message-templates", MessageTemplate, "name", "Bill notice (first)",
                             "Bill notice (second)"),
    "lead": Case("/leads", Lead, "name", "Lead (first)", "Lead (second)", seeded=True),
    "opportunity": Case("/opportunities", Opportunity, "name", "Fibre upgrade (first)", "Fibre upgrade (second)",
                        seeded=True),
    "kb_article": Case("/kb/articles", KbArticle, "title", "Roaming (first)", "Roaming (second)", seeded=True),
}
# resource → (model, field, new value, business table to seed; else reference data, put back afterwards)
API_CASES = {
    "plans": (Plan, "name", "Unlimited (API)", True),
    "value_added_services": (ValueAddedService, "name", "Ring (API)", True),
    "contact_logs": (ContactLog, "content", "Visited the shop (API)", True),
    "leads": (Lead, "name", "Lead (API)", True),
    "opportunities": (Opportunity, "name", "Fibre upgrade (API)", True),
    "orders": (SalesOrder, "notes", "Deliver after 18:00 (API)", True),
    "care_rules": (CareRule, "name", "Birthday call (API)", False),
    "kb_articles": (KbArticle, "title", "Roaming abroad (API)", True),
    "campaigns": (Campaign, "name", "Spring data bonus (API)", True),
}


def _fresh_record(model: type) -> int | None:
    """A record still open to edits (the seed's leads, opportunities and orders may be converted,
    closed or past draft; it makes no articles or campaigns), made through the services."""
    from tests.campaigns.conftest import make_campaign
    from tests.kb.conftest import article
    from tests.sales.conftest import make_lead, make_opportunity, make_order

    makers = {Lead: make_lead, Opportunity: make_opportunity, SalesOrder: make_order, Campaign: make_campaign,
              KbArticle: lambda: article("Roaming", "Dial *100# to switch roaming on.")}
    return makers[model]().id if model in makers else None


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
            made = _fresh_record(model)
            if made is not None:
                return made
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
    model, field, value, seeded = API_CASES[resource]
    pk = record(model, field, seeded)
    before, version = stored(app, model, pk, field)
    client = app.test_client()
    first, second = api_token("admin2"), api_token("manager")
    # A client reads the version it sends back.
    assert client.get(f"/api/v1/{resource}/{pk}", headers=second).get_json()["result"]["version"] == version
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


# --- suspend / resume: the status form carries the line's version ------------------------------------

@pytest.fixture
def line(app: Any) -> Any:
    """An active line of a clerk's customer: (id, version, customer id)."""
    from app.services import subscriptions
    from tests.conftest import actor_for
    from tests.factories import make_customer, make_plan

    with app.app_context():
        clerk = actor_for("clerk1")
        customer = make_customer(clerk)
        plan = make_plan(actor_for("manager"))
        sub = subscriptions.open_line({"customer_id": customer.id, "plan_id": plan.id, "number": customer.mobile},
                                      clerk)
        return sub.id, sub.version, customer.id


def line_state(app: Any, pk: int) -> tuple[str, int, list[str]]:
    from app.models.business_change import BusinessChange

    with app.app_context():
        sub = db.session.get(Subscription, pk)
        kinds = db.session.execute(select(BusinessChange.change_type).where(BusinessChange.subscription_id == pk)
                                   .order_by(BusinessChange.id)).scalars().all()
        return sub.status, sub.version, list(kinds)


def test_second_suspend_on_a_stale_form_is_a_conflict_not_a_second_change(app: Any, line: Any) -> None:
    pk, version, customer_id = line
    url = f"/subscriptions/{pk}/status/suspended"
    first, second = client_for(app, "clerk1"), client_for(app, "manager")
    form1, form2 = form_of(first.get(url)).values, form_of(second.get(url)).values
    assert form1["version"] == form2["version"] == str(version)

    form1["reason"] = "欠费停机"
    resp = first.post(url, data=form1)
    assert resp.status_code == 302 and f"/customer360/{customer_id}" in resp.headers["Location"]
    assert line_state(app, pk) == ("suspended", version + 1, ["open", "suspend"])

    form2["reason"] = "客户申请停机"
    resp = second.post(url, data=form2)
    assert resp.status_code == 200
    warning = " ".join(flashes(resp, "warning"))
    assert tr(app, "Suspended") in warning  # the line as the other clerk left it
    kept = form_of(resp).values
    assert kept["reason"] == "客户申请停机" and kept["version"] == str(version + 1)
    assert line_state(app, pk) == ("suspended", version + 1, ["open", "suspend"])  # applied once

    # Saving again, having seen the warning: the line is already suspended, so still nothing changes.
    resp = second.post(url, data=kept)
    assert resp.status_code == 200 and flashes(resp, "danger")
    assert line_state(app, pk) == ("suspended", version + 1, ["open", "suspend"])


def test_a_form_opened_before_a_suspend_and_resume_does_not_suspend_again(app: Any, api_token: Any,
                                                                           line: Any) -> None:
    """The status alone would not show the change (active → suspended → active); the version does."""
    pk, version, _ = line
    url = f"/subscriptions/{pk}/status/suspended"
    clerk = client_for(app, "clerk1")
    stale = form_of(clerk.get(url)).values
    api, headers = app.test_client(), api_token("manager")
    for status in ("suspended", "active"):
        resp = api.post(f"/api/v1/subscriptions/{pk}/change_status", json={"status": status}, headers=headers)
        assert resp.status_code == 200, resp.get_json()
    resp = clerk.post(url, data=stale)
    assert resp.status_code == 200 and flashes(resp, "warning")
    assert line_state(app, pk) == ("active", version + 2, ["open", "suspend", "resume"])


def test_stale_suspend_on_the_api_is_409_and_changes_nothing(app: Any, api_token: Any, line: Any) -> None:
    pk, _, _ = line
    client, first, second = app.test_client(), api_token("clerk1"), api_token("manager")
    read = client.get(f"/api/v1/subscriptions/{pk}", headers=second).get_json()["result"]
    version = read["version"]  # the API shows the version a client sends back
    resp = client.post(f"/api/v1/subscriptions/{pk}/change_status", json={"status": "suspended", "version": version},
                       headers=first)
    assert resp.status_code == 200, resp.get_json()
    resp = client.post(f"/api/v1/subscriptions/{pk}/change_status", json={"status": "suspended", "version": version},
                       headers=second)
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["current"]["status"] == "suspended"
    assert line_state(app, pk) == ("suspended", version + 1, ["open", "suspend"])
    resp = client.post(f"/api/v1/subscriptions/{pk}/change_status", json={"status": "active", "version": version + 1},
                       headers=second)
    assert resp.status_code == 200 and resp.get_json()["result"]["version"] == version + 2


def test_line_page_offers_the_actions_to_who_may_change_lines(app: Any, line: Any) -> None:
    pk, _, _ = line
    html = client_for(app, "clerk1").get(f"/subscriptions/show/{pk}").get_data(as_text=True)
    assert f"/subscriptions/{pk}/status/suspended" in html and f"/subscriptions/{pk}/change-plan" in html
    reader = client_for(app, "agent1").get(f"/subscriptions/show/{pk}")  # may read lines, not change them
    assert reader.status_code == 200 and "crm-line-actions" not in reader.get_data(as_text=True)


# --- every editable resource is covered ----------------------------------------------------------------

# Editable pages and APIs whose conflict is proved in another test module (class → test).
ELSEWHERE = {
    "CustomerModelView": "tests/http/test_customers_pages.py::test_two_editors_second_sees_conflict_with_the_"
                         "others_values",
    "CustomerApi": "tests/http/test_customers_api.py::test_put_updates_and_a_stale_version_is_409",
    "TeamModelView": "tests/teams/test_team_locking.py",
    "TeamMemberModelView": "tests/teams/test_team_locking.py",
    "DepartmentStructureModelView": "tests/teams/test_team_locking.py",
    "CareTaskApi": "tests/care/test_task_locking.py (the API and the agenda's outcome form)",
}
# Editable resources that do not check a version yet, and why (each one is in the locking report).
KNOWN_GAPS: dict[str, str] = {}


def test_every_editable_page_and_api_carries_a_version_and_has_a_conflict_case(app: Any) -> None:
    """A new editable resource fails here until its form carries the version and a test above (or in
    ELSEWHERE) shows a stale save is refused."""
    from app.views.base import ServiceModelApi, ServiceModelView

    ui_models = {case.model for case in UI_CASES.values()}
    uncovered = set()
    for view in app.appbuilder.baseviews:
        name = type(view).__name__
        if isinstance(view, ServiceModelView) and view.writes.update is not None:
            assert "version" in view.edit_columns, f"{name}: the edit form does not carry the version"
            if view.datamodel.obj not in ui_models and name not in ELSEWHERE:
                uncovered.add(name)
        elif (isinstance(view, ServiceModelApi) and view.writes.update is not None
              and view.resource_name not in API_CASES and name not in ELSEWHERE):
            uncovered.add(name)
    assert uncovered == set(KNOWN_GAPS)
