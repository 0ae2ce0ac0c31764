"""FAB's rison argument check still rejects arguments that break its schema (now compiled once)."""


def test_bad_rison_arguments_are_400_with_fabs_message(client, api_token):
    headers = api_token("clerk1")
    bad = client.get("/api/v1/customers/?q=(page_size:'many')", headers=headers)
    assert bad.status_code == 400
    assert "Not a valid rison schema" in bad.get_json()["message"]
    good = client.get("/api/v1/customers/?q=(page_size:5)", headers=headers)
    assert good.status_code == 200
