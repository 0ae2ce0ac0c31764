"""A list page's database work does not grow with the menu: permissions are read at most once a
request, and not at all while the process holds them (app/security/manager.py, acl_version)."""

from __future__ import annotations


def test_customer_list_page_reads_permissions_once_then_keeps_them(app, client, monkeypatch):
    from app.security import manager
    from tests.conftest import login, recorded_statements

    monkeypatch.setattr(manager, "_PERMISSIONS", {})  # a process that has not read them yet
    login(client, "manager")
    reads = []
    for _ in range(2):
        with recorded_statements(app) as statements:
            resp = client.get("/customers/list/")
        assert resp.status_code == 200
        reads.append([s for s in statements if "ab_permission_view_role" in s])
        assert len(statements) < 20, statements
    assert [len(r) for r in reads] == [1, 0], reads
