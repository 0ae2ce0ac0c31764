"""A list page's database work does not grow with the menu: permissions are read once a request."""

from __future__ import annotations

from sqlalchemy import event

from app.extensions import db


def test_customer_list_page_reads_permissions_once(app, client):
    from tests.conftest import login

    login(client, "manager")
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def _count(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        resp = client.get("/customers/list/")
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    assert resp.status_code == 200
    permission_reads = [s for s in statements if "ab_permission_view_role" in s]
    assert len(permission_reads) == 1, permission_reads
    assert len(statements) < 20, statements
