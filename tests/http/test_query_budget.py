"""A list page's database work does not grow with the menu: permissions are read once a request."""

from __future__ import annotations


def test_customer_list_page_reads_permissions_once(app, client):
    from tests.conftest import login, recorded_statements

    login(client, "manager")
    with recorded_statements(app) as statements:
        resp = client.get("/customers/list/")
    assert resp.status_code == 200
    permission_reads = [s for s in statements if "ab_permission_view_role" in s]
    assert len(permission_reads) == 1, permission_reads
    assert len(statements) < 20, statements
