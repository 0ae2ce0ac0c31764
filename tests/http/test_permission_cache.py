"""Each process keeps its roles' permissions while `acl_version` stays the same (migration 0027):
a change to the permission tables by anyone — another process, the CLI, plain SQL — moves the
counter in the same transaction, so the next request everywhere sees it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import appbuilder, db
from app.models.acl_version import ACL_TABLES


def _version() -> int:
    return int(db.session.execute(text("SELECT n FROM acl_version WHERE id = 1")).scalar())


def _clerk_list_grant() -> dict[str, int]:
    sm = appbuilder.sm
    pv = sm.find_permission_view_menu("can_list", "CustomerModelView")
    return {"r": sm.find_role("Clerk").id, "pv": pv.id}


def _revoke(grant: dict[str, int]) -> None:
    db.session.execute(text("DELETE FROM ab_permission_view_role WHERE role_id = :r AND permission_view_id = :pv"),
                       grant)
    db.session.commit()


def _restore() -> None:
    sm = appbuilder.sm
    db.session.rollback()
    role = sm.find_role("Clerk")
    pv = sm.find_permission_view_menu("can_list", "CustomerModelView")
    if pv not in role.permissions:
        sm.add_permission_role(role, pv)


def test_a_grant_removed_by_plain_sql_is_refused_on_the_next_request(ctx, as_user):
    # Plain SQL on the shared database is what a change in another process looks like from here:
    # nothing in this process is told, only the counter moves.
    grant = _clerk_list_grant()
    client = as_user("clerk1")
    assert client.get("/customers/list/").status_code == 200  # permissions now kept by this process
    _revoke(grant)
    try:
        assert client.get("/customers/list/").status_code == 403
    finally:
        _restore()
    assert client.get("/customers/list/").status_code == 200


@pytest.mark.parametrize("table", ACL_TABLES)
def test_every_write_to_a_permission_table_moves_the_counter(ctx, table):
    before = _version()
    # An UPDATE that changes nothing still counts as a write (statement and row triggers alike).
    db.session.execute(text(f"UPDATE {table} SET id = id WHERE id = (SELECT min(id) FROM {table})"))  # noqa: S608
    db.session.commit()
    assert _version() > before


def test_adding_and_removing_a_grant_through_fab_moves_the_counter(ctx):
    sm = appbuilder.sm
    role = sm.find_role("Clerk")
    pv = sm.find_permission_view_menu("menu_access", "Security")
    first = _version()
    sm.add_permission_role(role, pv)
    second = _version()
    sm.del_permission_role(role, pv)
    assert first < second < _version()


def test_without_the_counter_nothing_is_kept_and_answers_stay_right(ctx, as_user):
    grant = _clerk_list_grant()
    client = as_user("clerk1")
    db.session.execute(text("DELETE FROM acl_version"))
    db.session.commit()
    try:
        assert client.get("/customers/list/").status_code == 200
        _revoke(grant)  # moves no counter now
        assert client.get("/customers/list/").status_code == 403
    finally:
        _restore()
        db.session.execute(text("INSERT INTO acl_version (id, n) SELECT 1, 1000 "
                                "WHERE NOT EXISTS (SELECT 1 FROM acl_version)"))
        db.session.commit()
    assert client.get("/customers/list/").status_code == 200
