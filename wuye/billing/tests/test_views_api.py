"""Staff pages, PDFs and the API of billing."""

import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest

from wuye.billing.models import BillingRun, Charge

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }


def pdf_text(content: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_finance_previews_posts_and_watches_a_run(client, finance, owner, property_fee):
    client.force_login(finance)
    # new run -> preview
    response = client.post(
        "/billing/runs/new/",
        {"estate": owner.estate.pk, "period": "2026-12", "as_of": "2026-12-01"},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="run-post"' in html and "250.60" in html
    run = BillingRun.objects.get()
    # post -> runs (immediately in tests) -> done
    response = client.post(f"/billing/runs/{run.pk}/post/", follow=True)
    assert 'data-status="posted"' in response.content.decode()
    assert Charge.objects.get().amount == Decimal("250.60")
    # the htmx status fragment
    fragment = client.get(f"/billing/runs/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="run-status"')


def test_a_bad_period_is_shown_on_the_form(client, finance, owner):
    client.force_login(finance)
    response = client.post("/billing/runs/new/", {"estate": owner.estate.pk, "period": "2026-13"})
    assert "YYYY-MM" in response.content.decode() and not BillingRun.objects.exists()


def test_a_cashier_sees_charges_but_cannot_start_a_run(
    client, make_staff, owner, bill, property_fee
):
    bill("2026-12")
    cashier = make_staff("cashier", estates=[owner.estate])
    client.force_login(cashier)
    assert client.get("/billing/charges/").status_code == 200
    assert client.get("/billing/runs/new/").status_code == 403


def test_staff_of_another_estate_do_not_see_the_statement(client, make_staff, other_estate, owner):
    client.force_login(make_staff("finance", estates=[other_estate]))
    assert client.get(f"/billing/statements/{owner.pk}/").status_code == 404


def test_the_statement_pdf_carries_the_running_balance(
    client, finance, owner, property_fee, bill, tmp_path
):
    bill("2026-12")
    bill("2027-01")
    client.force_login(finance)
    page = client.get(f"/billing/statements/{owner.pk}/").content.decode()
    assert "501.20" in page
    response = client.get(f"/billing/statements/{owner.pk}/pdf/")
    text = pdf_text(response.content, tmp_path)
    assert "对账单" in text and "张伟" in text and "501.20" in text


def test_the_payment_notice_carries_the_payment_reference(
    client, finance, owner, property_fee, bill, tmp_path
):
    bill("2026-12", as_of=date(2026, 12, 1))
    client.force_login(finance)
    response = client.get(f"/billing/notices/{owner.pk}/2026-12/pdf/")
    text = pdf_text(response.content, tmp_path)
    assert owner.payment_ref in text and "250.60" in text
    assert "2026-12-31" in text and "0755-86001234" in text


def test_the_api_creates_previews_and_posts_a_run(client, finance, owner, property_fee):
    client.force_login(finance)
    created = client.post(
        "/api/v1/billing/runs/",
        {"estate": "HY", "period": "2026-12", "as_of": "2026-12-01"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    preview = client.post(f"/api/v1/billing/runs/{pk}/preview/").json()
    assert preview["count"] == 1 and preview["amount"] == "250.60"
    posted = client.post(f"/api/v1/billing/runs/{pk}/post/")
    assert posted.status_code == 202 and posted.json()["status"] == "posted"
    charges = client.get("/api/v1/billing/charges/?period=2026-12").json()
    assert charges["count"] == 1 and charges["results"][0]["amount"] == "250.60"
    statement = client.get(f"/api/v1/billing/statements/{owner.pk}/").json()
    assert statement["closing"] == "250.60"


def test_the_api_refuses_a_bad_period_naming_the_field(client, finance, owner):
    client.force_login(finance)
    response = client.post(
        "/api/v1/billing/runs/",
        {"estate": "HY", "period": "202612"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["field"] == "period"


def test_finance_assesses_late_fees_from_the_page(client, finance, owner, property_fee, bill):
    # June due 1 July: 26 days late after 15 grace days on 11 August
    bill("2026-06", as_of=date(2026, 6, 1))
    client.force_login(finance)
    response = client.post(
        "/billing/late-fees/", {"estate": owner.estate.pk, "as_of": "2026-08-11"}, follow=True
    )
    assert "1.95" in response.content.decode()


def test_the_late_fee_page_refuses_a_day_not_yet_passed(client, finance, owner, property_fee, bill):
    bill("2026-06", as_of=date(2026, 6, 1))
    client.force_login(finance)
    response = client.post(
        "/billing/late-fees/", {"estate": owner.estate.pk, "as_of": "2099-12-31"}, follow=True
    )
    assert "only for days that have passed" in response.content.decode()
    assert not Charge.objects.filter(kind=Charge.Kind.LATE_FEE).exists()


def test_the_opening_import_page_checks_before_it_writes(client, finance, owner, property_fee):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wuye.billing.tests.test_opening import xlsx

    client.force_login(finance)
    content = xlsx([("1-1-301", "PROPERTY", "2026-10", "arrears", "99.00", None)])

    def upload(**extra):
        f = SimpleUploadedFile("old.xlsx", content)
        return client.post("/billing/opening/", {"estate": owner.estate.pk, "file": f, **extra})

    assert 'id="opening-summary"' in upload().content.decode()
    assert not Charge.objects.exists()
    upload(confirm="on")
    assert Charge.objects.get().amount == Decimal("99.00")
