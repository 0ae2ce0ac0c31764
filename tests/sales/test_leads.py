"""Leads: validation with the shared validators, duplicate check, priority score, statuses, conversion."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.customer import Customer
from app.models.lead import Lead
from app.models.opportunity import Opportunity, OpportunityStageChange
from app.services import leads
from app.services.errors import Forbidden, Invalid
from tests.factories import make_customer, make_plan
from tests.sales.conftest import an_id_number, lead_data, make_lead


def test_contact_details_are_validated_with_the_shared_validators(ctx, actor):
    with pytest.raises(Invalid) as exc:
        leads.create({"name": "", "mobile": "12345", "source": "radio", "email": "nope",
                      "id_number": "110105198001010000"}, actor("sales1"))
    assert set(exc.value.errors) == {"name", "mobile", "source", "email", "id_number"}
    assert db.session.execute(select(func.count(Lead.id))).scalar() == 0


def test_a_salespersons_lead_is_their_own_and_pii_is_protected(ctx, actor):
    idn = an_id_number()
    lead = leads.create(lead_data(mobile="+86 139 1234 5678", id_number=idn, owner_id=actor("sales2").id),
                        actor("sales1"))
    assert lead.owner_id == actor("sales1").id  # not the owner they asked for
    assert lead.mobile == "13912345678"
    assert lead.id_number_masked == idn[:3] + "*" * 11 + idn[-4:]
    assert idn not in (lead.id_number_enc or "")
    entry = db.session.execute(select(AuditLog).where(AuditLog.entity == "lead")).scalar_one()
    assert "13912345678" not in entry.changes and idn not in entry.changes


def test_duplicate_of_a_customer_by_mobile_or_id_number(ctx, actor):
    idn = an_id_number()
    customer = make_customer(actor("sales2"), mobile="13811112222", id_number=idn)
    with pytest.raises(Invalid) as exc:
        leads.create(lead_data(mobile="13811112222"), actor("sales1"))
    assert "mobile" in exc.value.errors and f"#{customer.id}" in exc.value.errors["mobile"][0]
    with pytest.raises(Invalid) as exc:
        leads.create(lead_data(id_number=idn.lower() if idn.endswith("X") else idn), actor("sales1"))
    assert list(exc.value.errors) == ["id_number"] and exc.value.related["id_number"] == customer.id


def test_duplicate_of_an_open_lead_but_not_of_a_disqualified_one(ctx, actor):
    first = make_lead(mobile="13955556666")
    with pytest.raises(Invalid) as exc:
        make_lead("sales2", mobile="13955556666")
    assert f"#{first.id}" in exc.value.errors["mobile"][0]
    leads.set_status(first.id, "disqualified", "wrong number", actor("sales1"))
    assert make_lead("sales2", mobile="13955556666").id != first.id
    # Editing a lead without changing its mobile is not a duplicate of itself.
    second = make_lead(mobile="13955557777")
    assert leads.update(second.id, {"mobile": "13955557777", "notes": "x"}, actor("sales1")).notes == "x"


def test_priority_score_from_source_interest_and_recency_with_explanation(ctx, actor):
    plan = make_plan(actor("manager"), name="畅享99")
    hot = make_lead(source="walk_in", interest_plan_id=plan.id)
    cold = make_lead(source="social", interest="")
    assert hot.priority_score == 30 + 25 + 30
    assert cold.priority_score == 10 + 0 + 30
    later = hot.created_at + dt.timedelta(days=10)
    assert leads.score(hot, later) == 30 + 25 + 5
    text = leads.explain(hot, later)
    assert "畅享99" in text and "+25" in text and "10" in text and text.endswith("合计 60 分")
    ordered = db.session.execute(select(Lead.id).order_by(Lead.priority_score.desc())).scalars().all()
    assert ordered == [hot.id, cold.id]


def test_status_moves_and_disqualify_needs_a_reason(ctx, actor):
    lead = make_lead()
    with pytest.raises(Invalid) as exc:
        leads.set_status(lead.id, "disqualified", "  ", actor("sales1"))
    assert "disqualify_reason" in exc.value.errors
    with pytest.raises(Invalid):
        leads.set_status(lead.id, "converted", None, actor("sales1"))  # only through conversion
    leads.set_status(lead.id, "qualified", None, actor("sales1"))
    lead = leads.set_status(lead.id, "disqualified", "no budget", actor("sales1"))
    assert (lead.status, lead.disqualify_reason) == ("disqualified", "no budget")


def test_only_a_manager_reassigns_the_owner_and_it_is_audited(ctx, actor):
    lead = make_lead()
    with pytest.raises(Forbidden):
        leads.update(lead.id, {"owner_id": actor("sales2").id}, actor("sales1"))
    leads.update(lead.id, {"owner_id": actor("sales2").id}, actor("manager"))
    assert db.session.get(Lead, lead.id).owner_id == actor("sales2").id
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "reassign")).scalar_one()
    assert entry.entity == "lead" and entry.actor_name == "manager"


def test_conversion_creates_customer_and_opportunity(ctx, actor):
    plan = make_plan(actor("manager"))
    idn = an_id_number()
    lead = make_lead(id_number=idn, interest_plan_id=plan.id, city="上海")
    opp = leads.convert(lead.id, {"expected_revenue": "1188.00"}, actor("sales1"))
    customer = db.session.get(Customer, opp.customer_id)
    assert customer.mobile == lead.mobile and customer.owner_id == actor("sales1").id and customer.city == "上海"
    assert (opp.stage, opp.plan_id, opp.lead_id, str(opp.expected_revenue)) == ("potential", plan.id, lead.id,
                                                                                 "1188.00")
    lead = db.session.get(Lead, lead.id)
    assert (lead.status, lead.customer_id, lead.created_customer) == ("converted", customer.id, True)
    with pytest.raises(Invalid):
        leads.convert(lead.id, {}, actor("sales1"))


def test_conversion_links_an_existing_customer(ctx, actor):
    customer = make_customer(actor("sales1"))
    lead = make_lead()
    opp = leads.convert(lead.id, {"customer_id": customer.id}, actor("sales1"))
    assert opp.customer_id == customer.id
    assert db.session.get(Lead, lead.id).created_customer is False
    assert db.session.execute(select(func.count(Customer.id))).scalar() == 1


def test_conversion_needs_an_id_number_for_a_new_customer(ctx, actor):
    lead = make_lead()
    with pytest.raises(Invalid) as exc:
        leads.convert(lead.id, {}, actor("sales1"))
    assert "id_number" in exc.value.errors
    assert db.session.get(Lead, lead.id).status == "new"


def test_conversion_failing_half_way_leaves_nothing_behind(ctx, actor, monkeypatch):
    from app.services import opportunities

    lead = make_lead(id_number=an_id_number())
    audit_before = db.session.execute(select(func.count(AuditLog.id))).scalar()

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("database went away")

    monkeypatch.setattr(opportunities, "create", broken)
    with pytest.raises(RuntimeError):
        leads.convert(lead.id, {}, actor("sales1"))
    db.session.expire_all()
    assert db.session.execute(select(func.count(Customer.id))).scalar() == 0  # the customer was rolled back
    assert db.session.execute(select(func.count(Opportunity.id))).scalar() == 0
    assert db.session.execute(select(func.count(OpportunityStageChange.id))).scalar() == 0
    assert db.session.get(Lead, lead.id).status == "new"
    assert db.session.execute(select(func.count(AuditLog.id))).scalar() == audit_before
    monkeypatch.undo()
    assert leads.convert(lead.id, {}, actor("sales1")).id  # and the session is usable afterwards


def test_rescore_all_fades_recency_like_the_explained_score(ctx, actor):
    from app.jobs import sales_rescore

    fresh = make_lead(source="hotline", interest="")
    old = make_lead(source="partner", interest="宽带")
    closed = make_lead(source="walk_in")
    leads.set_status(closed.id, "disqualified", "spam", actor("sales1"))
    later = fresh.created_at + dt.timedelta(days=5)
    assert sales_rescore.run(later)["rescored"] == 2
    db.session.expire_all()
    for lead in (fresh, old):
        lead = db.session.get(Lead, lead.id)
        assert lead.priority_score == leads.score(lead, later)  # SQL and Python agree
    assert db.session.get(Lead, fresh.id).priority_score == 25 + 0 + 15
    assert db.session.get(Lead, closed.id).priority_score == 30 + 10 + 30  # closed leads keep theirs
    assert leads.rescore_all(later) == 0  # nothing changed on a second run


def test_a_converted_lead_keeps_its_facts_but_takes_notes(ctx, actor):
    lead = make_lead(id_number=an_id_number())
    leads.convert(lead.id, {}, actor("sales1"))
    with pytest.raises(Invalid) as exc:
        leads.update(lead.id, {"name": "Someone else", "notes": "x"}, actor("sales1"))
    assert "name" in exc.value.errors
    db.session.rollback()
    # The edit form sends every field back unchanged: only the notes change.
    same = {"name": lead.name, "mobile": lead.mobile_masked, "source": lead.source, "notes": "signed the contract"}
    assert leads.update(lead.id, same, actor("sales1")).notes == "signed the contract"
