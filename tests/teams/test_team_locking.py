"""Issue 7.5 for the team hierarchy: two managers edit the same team, department or membership; the
second save is a conflict that names what the first saved, keeps the second manager's input on the
form and overwrites nothing. Saving again, having seen the warning, is a deliberate overwrite.

`team`, `department` and `ab_user` have no version column: the forms carry a digest of the edited
fields (`services.teams.*_version`), re-checked by a conditional UPDATE when the change is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.department import Department
from app.models.team import Team
from app.models.user import CrmUser
from app.services import teams
from app.services.errors import Conflict
from tests.conftest import actor_for, login
from tests.http.conftest import flashes, form_of


@pytest.fixture
def in_app(app: Any) -> Any:
    @contextlib.contextmanager
    def _ctx() -> Iterator[None]:
        with app.app_context():
            yield

    return _ctx


def client_for(app: Any, username: str) -> Any:
    client = app.test_client()
    login(client, username)
    return client


def both_open(app: Any, url: str) -> tuple[Any, Any, dict[str, str], dict[str, str]]:
    """admin2 and manager open the same edit form; both forms carry the same lock token."""
    first, second = client_for(app, "admin2"), client_for(app, "manager")
    form1, form2 = form_of(first.get(url)).values, form_of(second.get(url)).values
    assert form1["version"] and form1["version"] == form2["version"]
    return first, second, form1, form2


def moves_of(user_id: int) -> int:
    return len(db.session.execute(select(AuditLog.id).where(
        AuditLog.action == "move", AuditLog.entity_id == str(user_id))).all())


def test_second_team_editor_gets_a_conflict_and_keeps_their_input(app: Any, in_app: Any, org: Any) -> None:
    url = f"/teams/edit/{org.team_b}"
    first, second, form1, form2 = both_open(app, url)

    form1["name"] = "East B (first)"
    assert first.post(url, data=form1).status_code == 302

    form2["name"] = "East B (second)"
    form2["lead"] = str(org.ids["tm_peer"])
    resp = second.post(url, data=form2)
    assert resp.status_code == 200
    assert "East B (first)" in " ".join(flashes(resp, "warning"))  # the other manager's value
    kept = form_of(resp).values
    assert kept["name"] == "East B (second)" and kept["lead"] == str(org.ids["tm_peer"])
    assert kept["version"] != form2["version"]  # the version now on the form is the current one
    with in_app():
        team = db.session.get(Team, org.team_b)
        assert (team.name, team.lead_user_id) == ("East B (first)", None)  # nothing overwritten

    # Having seen the warning, saving again overwrites on purpose (and the lead joins the team).
    assert second.post(url, data=kept).status_code == 302
    with in_app():
        team = db.session.get(Team, org.team_b)
        assert (team.name, team.lead_user_id) == ("East B (second)", org.ids["tm_peer"])


def test_second_department_editor_gets_a_conflict(app: Any, in_app: Any, org: Any) -> None:
    url = f"/department-structure/edit/{org.west}"
    first, second, form1, form2 = both_open(app, url)

    form1["head"] = str(org.ids["tm_sibling"])
    assert first.post(url, data=form1).status_code == 302

    form2["parent"] = str(org.east)
    resp = second.post(url, data=form2)
    assert resp.status_code == 200
    assert flashes(resp, "warning")
    assert form_of(resp).values["parent"] == str(org.east)
    with in_app():
        west = db.session.get(Department, org.west)
        assert (west.parent_id, west.head_user_id) == (None, org.ids["tm_sibling"])


def test_second_membership_editor_gets_a_conflict_and_the_user_moves_once(app: Any, in_app: Any,
                                                                          org: Any) -> None:
    who = org.ids["tm_child"]
    url = f"/team-members/edit/{who}"
    first, second, form1, form2 = both_open(app, url)

    form1["team"] = str(org.team_a)
    assert first.post(url, data=form1).status_code == 302

    form2["team"] = str(org.team_b)
    resp = second.post(url, data=form2)
    assert resp.status_code == 200
    assert "East A" in " ".join(flashes(resp, "warning"))
    assert form_of(resp).values["team"] == str(org.team_b)
    with in_app():
        assert db.session.get(CrmUser, who).team_id == org.team_a
        assert moves_of(who) == 1  # one audited move, not two


def test_a_login_does_not_make_a_membership_form_stale(app: Any, in_app: Any, org: Any) -> None:
    """The token covers the team only: the user signing in meanwhile (which writes their row) is no conflict."""
    who = org.ids["tm_child"]
    url = f"/team-members/edit/{who}"
    boss = client_for(app, "manager")
    form = form_of(boss.get(url)).values
    client_for(app, "tm_child")
    form["team"] = str(org.team_a)
    assert boss.post(url, data=form).status_code == 302
    with in_app():
        assert db.session.get(CrmUser, who).team_id == org.team_a


def test_a_save_racing_another_between_check_and_write_is_refused(app: Any, org: Any) -> None:
    """The token matched what this request read, but another writer committed before our write: the
    conditional UPDATE finds the row changed, so the save is a Conflict and changes nothing."""
    with app.app_context():
        boss = actor_for("manager")
        team = db.session.get(Team, org.team_b)
        token = teams.team_version(team)
        with db.engine.connect() as other:  # the other manager's transaction, committed meanwhile
            other.execute(update(Team).where(Team.id == org.team_b).values(name="East B (other)"))
            other.commit()
        with pytest.raises(Conflict) as caught:
            teams.update_team(org.team_b, {"name": "East B (mine)"}, boss, version=token)
        assert caught.value.current["name"] == "East B (other)"
        db.session.rollback()
        assert db.session.get(Team, org.team_b).name == "East B (other)"


def test_services_without_a_token_still_save(app: Any, org: Any) -> None:
    """Scripts and the CLI call the services without a token: no check, as for versioned records."""
    with app.app_context():
        boss = actor_for("manager")
        teams.update_team(org.team_b, {"name": "East B (script)"}, boss)
        teams.update_department(org.west, {"head_user_id": org.ids["tm_sibling"]}, boss)
        assert db.session.get(Team, org.team_b).name == "East B (script)"
