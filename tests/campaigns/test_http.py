"""The `campaigns` API and the campaign pages: create, validation naming the field, preview,
launch (managers only), progress and report with the chart and the export."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services import campaigns
from app.views import campaigns as campaign_views
from tests.campaigns.conftest import NOW, TODAY, campaign_data, customer
from tests.conftest import actor_for


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setattr(campaign_views, "today", lambda: TODAY)
    monkeypatch.setattr(campaign_views, "now", lambda: NOW)


def test_api_create_list_validate_and_launch(app, client, api_token):
    mgr, s1 = api_token("manager"), api_token("sales1")
    with app.app_context():
        for _ in range(3):
            customer()
    bad = client.post("/api/v1/campaigns/", headers=mgr, json=campaign_data(
        end_date="2026-02-01", filters={"segments": ["vip"]}))
    assert bad.status_code == 422
    assert {"end_date", "filters.segments"} <= set(bad.get_json()["message"])
    assert client.post("/api/v1/campaigns/", headers=mgr, json={**campaign_data(), "colour": 1}).status_code == 400
    ok = client.post("/api/v1/campaigns/", headers=mgr, json=campaign_data(filters={"cities": ["北京"]}))
    assert ok.status_code == 201, ok.get_json()
    pk = ok.get_json()["id"]
    assert ok.get_json()["result"]["status"] == "draft"
    listing = client.get("/api/v1/campaigns/", headers=mgr).get_json()
    assert listing["count"] == 1 and listing["result"][0]["name"] == campaign_data()["name"]
    preview = client.get(f"/api/v1/campaigns/{pk}/preview", headers=mgr).get_json()
    assert preview["count"] == 3 and "****" in preview["sample"][0]["mobile"]
    # Sales may not see, create or launch campaigns.
    assert client.get("/api/v1/campaigns/", headers=s1).status_code == 403
    assert client.post("/api/v1/campaigns/", headers=s1, json=campaign_data()).status_code == 403
    assert client.post(f"/api/v1/campaigns/{pk}/launch", headers=s1).status_code == 403
    assert client.post("/api/v1/campaigns/999/launch", headers=mgr).status_code == 404
    launched = client.post(f"/api/v1/campaigns/{pk}/launch", headers=mgr)
    assert launched.status_code == 202
    assert client.post(f"/api/v1/campaigns/{pk}/launch", headers=mgr).status_code == 422
    assert client.put(f"/api/v1/campaigns/{pk}", headers=mgr, json={"name": "x"}).status_code == 422
    with app.app_context():
        campaigns.process_launches(NOW)
    report = client.get(f"/api/v1/campaigns/{pk}/report", headers=mgr).get_json()
    assert report["contacted"] == 3 and report["launch"]["status"] == "done" and report["launch"]["percent"] == 100
    assert report["by_day"] == [{"day": TODAY.isoformat(), "contacted": 3, "responded": 0, "converted": 0}]


def test_page_flow_define_preview_launch_report(app, as_user):
    with app.app_context():
        mobiles = [customer(city="上海").mobile for _ in range(2)] + [customer(city="北京").mobile]
    client = as_user("manager")
    assert client.get("/campaigns/").status_code == 200
    form = {"name": "上海回馈", "start_date": "2026-03-01", "end_date": "2026-03-31", "channel": "call",
            "conversion_days": "14", "offer": "Free month", "cities": "上海", "segments": ["ordinary"]}
    page = client.post("/campaigns/new", data={**form, "action": "preview"})
    assert page.status_code == 200 and 'id="crm-campaign-preview"' in page.text
    assert mobiles[0] not in page.text and mobiles[0][:3] + "****" + mobiles[0][-4:] in page.text
    assert mobiles[2][:3] + "****" + mobiles[2][-4:] not in page.text  # 北京 is not targeted
    bad = client.post("/campaigns/new", data={**form, "age_min": "x", "action": "save"})
    assert bad.status_code == 200 and 'data-field="filters.age_min"' in bad.text
    saved = client.post("/campaigns/new", data={**form, "action": "save"})
    assert saved.status_code == 302
    pk = int(saved.headers["Location"].rstrip("/").split("/")[-1])
    show = client.get(f"/campaigns/{pk}")
    assert show.status_code == 200 and 'id="crm-campaign-launch"' in show.text
    assert client.post(f"/campaigns/{pk}/launch").status_code == 302
    show = client.get(f"/campaigns/{pk}")
    assert 'id="crm-campaign-launch-progress" data-status="pending"' in show.text
    with app.app_context():
        campaigns.process_launches(NOW)
    show = client.get(f"/campaigns/{pk}")
    assert 'data-status="done"' in show.text and 'id="crm-chart-data-campaign"' in show.text
    assert '<td class="text-right crm-contacted">2</td>' in show.text
    # The call tasks land in the owners' follow-ups with the campaign and its offer as the reason.
    team = client.get("/care/team/")
    assert team.status_code == 200 and "上海回馈" in team.text
    assert client.post(f"/campaigns/{pk}/attribute").status_code == 302
    csv = client.get(f"/campaigns/{pk}/export?format=csv")
    assert csv.status_code == 200 and TODAY.isoformat() in csv.data.decode("utf-8-sig")
    xlsx = client.get(f"/campaigns/{pk}/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"  # a zip: the XLSX container
    assert client.get(f"/campaigns/{pk}/export?format=pdf").status_code == 400
    assert client.get("/campaigns/9999").status_code == 404
    agenda = as_user("sales1").get("/care/?tab=overdue")  # due 2026-03-10, before the real today
    assert agenda.status_code == 200 and "上海回馈 · Free month" in agenda.text


def test_non_managers_have_no_campaign_pages(app, as_user):
    with app.app_context():
        pk = campaigns.create(campaign_data(), actor_for("manager")).id
    for user in ("sales1", "agent1", "clerk1"):
        client = as_user(user)
        resp = client.post(f"/campaigns/{pk}/launch")
        assert resp.status_code in (302, 403)
        assert "/login" in resp.headers.get("Location", "/login") or resp.status_code == 403
        with app.app_context():
            assert db.session.get(campaigns.Campaign, pk).status == "draft"
        assert client.get("/campaigns/").status_code in (302, 403)


def test_api_info_and_openapi_describe_campaigns(client, api_token):
    mgr = api_token("manager")
    info = client.get("/api/v1/campaigns/_info", headers=mgr)
    assert info.status_code == 200 and "add_columns" in info.get_json()
    spec = client.get("/api/v1/_openapi", headers=mgr)
    assert spec.status_code == 200 and any("/campaigns/" in path for path in spec.get_json()["paths"])
    assert client.get("/api/v1/campaigns/?q=((((", headers=mgr).status_code == 400
