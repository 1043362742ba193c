from datetime import date

import pytest

from wuye.ledger import chart


@pytest.fixture
def books(estate, other_estate, post):
    mine = post(estate, "1250.40", day=date(2026, 3, 1), memo="HY", party_id=1)
    theirs = post(other_estate, "777.00", day=date(2026, 3, 2), memo="LJ")
    return mine, theirs


@pytest.mark.django_db
def test_the_entries_api_lists_the_callers_estates_with_postings(client, make_staff, books):
    # given
    mine, theirs = books
    client.force_login(make_staff("finance", estates=[mine.estate]))
    # when
    body = client.get("/api/v1/ledger/entries/").json()
    # then
    assert [e["voucher"] for e in body["results"]] == ["2026-00001"]
    entry = body["results"][0]
    assert entry["memo"] == "HY" and entry["estate"] == mine.estate_id
    assert entry["postings"][0] == {
        "id": entry["postings"][0]["id"],
        "account": chart.RECEIVABLE,
        "account_name": "应收账款",
        "party_id": 1,
        "debit": "1250.40",
        "credit": "0.00",
    }
    assert client.get(f"/api/v1/ledger/entries/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/ledger/entries/{mine.pk}/").status_code == 200


@pytest.mark.django_db
def test_the_trial_balance_api_is_scoped_and_balanced(client, make_staff, books):
    mine, theirs = books
    client.force_login(make_staff("finance", estates=[mine.estate]))
    body = client.get(
        "/api/v1/ledger/trial-balance/", {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    ).json()
    assert body["is_balanced"] is True
    assert body["totals"]["debits"] == "1250.40"
    assert {r["code"]: r["closing"] for r in body["rows"]} == {
        chart.RECEIVABLE: "1250.40",
        chart.REVENUE: "-1250.40",
    }
    denied = client.get("/api/v1/ledger/trial-balance/", {"estate": theirs.estate_id})
    assert denied.status_code == 404
    bad = client.get("/api/v1/ledger/trial-balance/", {"date_from": "March"})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_the_accounts_api_lists_the_chart_and_a_cashier_gets_no_ledger(client, make_staff):
    client.force_login(make_staff("auditor"))
    codes = [a["code"] for a in client.get("/api/v1/ledger/accounts/?limit=500").json()["results"]]
    assert set(chart.ACCOUNTS) <= set(codes)
    client.force_login(make_staff("cashier"))
    assert client.get("/api/v1/ledger/accounts/").status_code == 403
    assert client.get("/api/v1/ledger/entries/").status_code == 403
    assert client.get("/api/v1/ledger/trial-balance/").status_code == 403
