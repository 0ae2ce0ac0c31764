"""Outbox send-time rendering benchmark: what writing each message from current facts costs the
`outbox_send` job, against sending the same messages with their text already on the row.

    CRM_INSTANCE_DIR=/tmp/bench/instance \\
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/bench_messages.py --messages 200 --repeat 10

Each round picks `--messages` customers spread over the id range, queues one `ticket_ack` SMS for
each through `outbox.enqueue` (timed: enqueue no longer renders), then sends them through the job's per-message
path (`outbox.send_one`, only these rows) with a sender that does nothing (timed: each message is
written from the customer's facts just before it goes). The
baseline in the same round queues the same messages with their text already written
(`render_at_send` false, as rows queued before send-time rendering) and sends those. Every row the
benchmark writes is deleted at the end of its round; nothing else is changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench import _percentile, use_database  # noqa: E402 - bench/bench.py, after the path is set

DAYTIME = dt.datetime(2026, 11, 26, 3, 0)  # 11:00 in Shanghai: no quiet hours
CONTEXT = {"ticket_no": "T-BENCH", "ticket_type": "咨询", "ticket_subject": "基准测试", "department": "客服部"}


class NullSender:
    def send(self, message: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    url = use_database(parser, args.database_url)

    from sqlalchemy import delete, func, select, update

    from app import create_app
    from app.extensions import db
    from app.models.customer import Customer
    from app.models.message import OutboxMessage
    from app.services import message_render, outbox

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        outbox.clock = lambda: DAYTIME
        top = db.session.execute(select(func.max(Customer.id))).scalar() or 0
        print(f"customers: {db.session.execute(select(func.count()).select_from(Customer)).scalar():,}")
        enq, send_new, send_old = [], [], []

        def _send(message_ids: list[int]) -> outbox.SendResult:
            """The job's per-message path for just these rows (other rows in the outbox are left alone)."""
            db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids))
                               .values(status="sending").execution_options(synchronize_session=False))
            db.session.commit()
            result, senders = outbox.SendResult(), {"sms": NullSender()}
            for message_id in message_ids:
                outbox.send_one(message_id, DAYTIME, senders, result)
            return result
        for r in range(args.repeat):
            step = max(top // args.messages, 1)
            wanted = [1 + r + i * step for i in range(args.messages)]
            ids = list(db.session.execute(select(Customer.id).where(Customer.id.in_(wanted))).scalars())
            written: list[int] = []
            try:
                # Send-time rendering: enqueue (no text), then send (text written per message).
                t = time.perf_counter()
                for cid in ids:
                    written += [m.id for m in outbox.enqueue(customer_id=cid, template_code="ticket_ack",
                                                             context=CONTEXT, channel="sms", source="bench")]
                db.session.commit()
                enq.append((time.perf_counter() - t) * 1000 / len(ids))
                t = time.perf_counter()
                res = _send(written)
                send_new.append((time.perf_counter() - t) * 1000 / max(res.sent, 1))
                assert res.sent == len(ids), res
                # Baseline: the same messages with their text already on the row.
                rows = list(db.session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(written))).scalars())
                copies = [OutboxMessage(channel="sms", recipient=m.recipient, body=m.body, language=m.language,
                                        template_code=m.template_code, customer_id=m.customer_id, source="bench",
                                        status="queued", next_attempt_at=DAYTIME, render_at_send=False)
                          for m in rows]
                db.session.add_all(copies)
                db.session.commit()
                t = time.perf_counter()
                res = _send([m.id for m in copies])
                send_old.append((time.perf_counter() - t) * 1000 / max(res.sent, 1))
                assert res.sent == len(ids), res
                sample = db.session.get(OutboxMessage, written[0])
                assert sample.rendered_at == DAYTIME and message_render.render(sample, DAYTIME.date()).body
            finally:
                db.session.rollback()
                db.session.execute(delete(OutboxMessage).where(OutboxMessage.source == "bench"))
                db.session.commit()
        for name, xs in (("enqueue (no text written)", enq), ("send, text written at send time", send_new),
                         ("send, text already on the row (baseline)", send_old)):
            print(f"{name:45s} p50 {_percentile(xs, 0.5):7.2f} ms/message   p95 {_percentile(xs, 0.95):7.2f}")
        ratio = _percentile(send_new, 0.5) / _percentile(send_old, 0.5)
        print(f"send-time rendering / baseline (p50): {ratio:.2f}x over {args.repeat} rounds of {args.messages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
