"""Two runners sending at once never send one message twice (the claim is a conditional UPDATE;
PostgreSQL adds FOR UPDATE SKIP LOCKED). Run with CRM_TEST_DATABASE_URL for real concurrency."""

from __future__ import annotations

import threading
import time
from typing import Any

from app.extensions import db
from app.services import outbox
from tests.factories import make_customer
from tests.messaging.conftest import NOW, messages


class SlowSender:
    channel = "sms"

    def __init__(self, log: list[int], lock: threading.Lock) -> None:
        self.log, self.lock = log, lock

    def send(self, message: Any) -> None:
        time.sleep(0.005)  # a gateway round trip: lets the other runner interleave
        with self.lock:
            self.log.append(message.id)


def test_two_runners_never_send_the_same_message_twice(app, ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "BATCH", 7)  # several claims per runner
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    clerk = actor("clerk1")
    for _ in range(30):
        customer = make_customer(clerk)
        outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", context={"ticket_no": "T-1"})
    db.session.commit()
    sent: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def runner(name: str) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(outbox.send_due(NOW, runner=name, senders={"sms": SlowSender(sent, lock)}).sent)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(f"runner-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(sent) == 30 and len(set(sent)) == 30  # every message once, none twice
    assert sum(results) == 30
    db.session.expire_all()
    assert {m.status for m in messages()} == {"sent"}


def test_an_expired_claim_is_taken_over(ctx, actor, monkeypatch):  # noqa: ANN001
    """A runner that died mid-send leaves a 'sending' row; after the lease it is sent by another."""
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    customer = make_customer(actor("clerk1"))
    outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", context={"ticket_no": "T-1"})
    db.session.commit()
    assert len(outbox.claim(NOW, runner="dead")) == 1  # claimed, then the runner dies
    sent: list[int] = []
    sender = {"sms": SlowSender(sent, threading.Lock())}
    assert outbox.send_due(NOW, senders=sender).sent == 0  # still leased
    later = NOW + outbox.dt.timedelta(seconds=outbox.CLAIM_SECONDS + 1)
    assert outbox.send_due(later, senders=sender).sent == 1
    assert len(sent) == 1
