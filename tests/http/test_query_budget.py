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


def test_the_row_estimate_is_read_at_most_every_ttl_seconds(app, client, monkeypatch):
    from app.extensions import db
    from app.views import page_cache
    from tests.conftest import login, recorded_statements

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return  # SQLite has no row estimate: lists always count
    page_cache.clear()  # a process that has not read it yet
    login(client, "manager")

    def estimate_reads() -> int:
        with recorded_statements(app) as statements:
            assert client.get("/customers/list/").status_code == 200
        return sum("reltuples" in s for s in statements)

    # The first page reads the customers' estimate (and, building the search form, its drop-downs'
    # tables'); the next one, within the TTL, none.
    assert estimate_reads() >= 1
    assert estimate_reads() == 0
    monkeypatch.setitem(app.config, "CRM_ESTIMATE_TTL", 0)
    assert estimate_reads() == 1
