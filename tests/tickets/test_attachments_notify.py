"""Attachments (limits, types, traversal, permission-checked download) and the hooks the ticket
service calls: outbox messages on acknowledgement/transfer/resolution and a survey on resolution."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.ticket import TicketAttachment
from app.services import attachments, tickets
from app.services.errors import Invalid, NotFound
from tests.conftest import actor_for
from tests.tickets.conftest import T0, customer_with_line, dept, new_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_upload_and_download_with_row_rules(ctx, as_user):
    t = new_ticket()
    c = as_user("agent1")
    resp = c.post(f"/tickets/{t.id}/attachments",
                  data={"file": (io.BytesIO(PNG), "截图.png")}, content_type="multipart/form-data")
    assert resp.status_code == 302
    row = db.session.execute(select(TicketAttachment)).scalar_one()
    assert row.original_name == "截图.png" and row.size == len(PNG)
    assert attachments.STORED_NAME.fullmatch(row.stored_name)
    stored = attachments.storage_dir() / row.stored_name
    assert stored.read_bytes() == PNG
    resp = c.get(f"/tickets/{t.id}/attachments/{row.id}")
    assert resp.status_code == 200 and resp.data == PNG
    assert resp.headers["Content-Type"] == "image/png"
    assert "attachment" in resp.headers["Content-Disposition"]
    c2 = as_user("agent2")
    assert c2.get(f"/tickets/{t.id}/attachments/{row.id}").status_code == 404


def test_size_and_type_limits(ctx, app):
    t = new_ticket()
    a1 = actor_for("agent1")
    app.config["CRM_ATTACHMENT_MAX_BYTES"] = 100
    try:
        with pytest.raises(Invalid) as err:
            attachments.save(t.id, io.BytesIO(b"x" * 101), "big.txt", a1)
        assert "file" in err.value.errors
        attachments.save(t.id, io.BytesIO(b"x" * 100), "ok.txt", a1)
    finally:
        app.config.pop("CRM_ATTACHMENT_MAX_BYTES")
    for name, data in (("run.exe", b"MZ..."), ("page.html", b"<script>"), ("noext", b"abc"),
                       ("fake.png", b"MZ not a png"), ("empty.txt", b"")):
        with pytest.raises(Invalid):
            attachments.save(t.id, io.BytesIO(data), name, a1)
    assert len(attachments.list_for(t.id)) == 1


def test_traversal_names_never_reach_the_path(ctx):
    t = new_ticket()
    a1 = actor_for("agent1")
    base = attachments.storage_dir()
    before = {p.name for p in base.parent.iterdir()}
    row = attachments.save(t.id, io.BytesIO(b"hello"), "../../../etc/passwd.txt", a1)
    assert row.original_name == "passwd.txt"
    assert (base / row.stored_name).is_file()
    assert {p.name for p in base.parent.iterdir()} == before  # nothing written beside the store
    row2 = attachments.save(t.id, io.BytesIO(b"hello"), "..\\..\\win.txt", a1)
    assert row2.original_name == "win.txt"
    # a tampered stored name is refused, not followed
    row.stored_name = "../../secret_key"
    db.session.commit()
    with pytest.raises(NotFound):
        attachments.open_for_download(t.id, row.id, a1)
    # an attachment id of another ticket is not reachable through this ticket
    other = new_ticket()
    with pytest.raises(NotFound):
        attachments.open_for_download(other.id, row2.id, a1)


def test_outbox_and_survey_hooks(ctx):
    from app.models.message import OutboxMessage
    from app.models.survey import Survey

    a1, a2 = actor_for("agent1"), actor_for("agent2")
    customer, _line = customer_with_line(email="kehu@example.com")
    t = new_ticket(ticket_type="complaint", subject="信号差", customer_id=customer.id)
    tickets.take(t.id, a1, at=T0)
    tickets.transfer(t.id, dept("technical"), "请技术排查", a1, at=T0)
    tickets.take(t.id, a2, at=T0)
    tickets.resolve(t.id, {"resolution": "基站修复", "complaint_process": "排查", "complaint_result": "恢复"}, a2,
                    at=T0)
    rows = db.session.execute(select(OutboxMessage).where(OutboxMessage.source == "ticket",
                                                          OutboxMessage.source_id == t.id)).scalars().all()
    codes = {r.template_code for r in rows}
    assert codes == {"ticket_ack", "ticket_transfer", "ticket_resolved"}
    survey = db.session.execute(select(Survey).where(Survey.subject_type == "ticket",
                                                     Survey.subject_id == t.id)).scalar_one()
    resolved = [r for r in rows if r.template_code == "ticket_resolved"]
    for r in resolved:
        url = json.loads(r.context)["survey_url"]
        assert "/survey/" in url and (r.body is None or url in r.body)
    ack = next(r for r in rows if r.template_code == "ticket_ack")
    assert json.loads(ack.context)["ticket_no"] == t.ticket_no
    moved = next(r for r in rows if r.template_code == "ticket_transfer")
    assert json.loads(moved.context)["department"] == "技术部"
    assert survey.customer_id == customer.id
