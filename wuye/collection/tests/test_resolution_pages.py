"""The staff pages of the resolution paths: the case's ways out with its limitation warning,
each list and page, another estate's records as 404."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from wuye.collection.models import ArrearsCase, InstallmentPlan, WorkOrder

from .books import charge


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_case_page_warns_of_limitation_and_drafts_a_plan(client, collector, case, unit, owner):
    # given a period whose limitation ends within 90 days, and one time-barred
    today = timezone.localdate()
    charge(unit, owner, "2023-12", "250.00", due=today.replace(year=today.year - 3) + timedelta(40))
    charge(unit, owner, "2022-01", "250.00", due=date(2022, 1, 28))
    client.force_login(collector)
    page = client.get(f"/collection/cases/{case.pk}/resolution/").content.decode()
    assert 'data-test="limitation-warning"' in page
    assert "40 days left" in page and "time-barred since 2025-01-28" in page
    # when the collector drafts a plan from it
    first = (today + timedelta(days=7)).isoformat()
    response = client.post(
        f"/collection/cases/{case.pk}/resolution/",
        {"action": "plan", "kind": "equal", "count": "2", "first_due": first, "grace_days": "5"},
    )
    plan = InstallmentPlan.objects.get(case=case)
    assert response.status_code == 302 and response["Location"] == f"/collection/plans/{plan.pk}/"
    # and prints the agreement and uploads the signed scan
    pdf = client.get(f"/collection/plans/{plan.pk}/agreement.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    client.post(
        f"/collection/plans/{plan.pk}/",
        {"action": "sign", "file": SimpleUploadedFile("signed.jpg", b"jpeg"), "signed_on": ""},
    )
    plan.refresh_from_db()
    assert plan.signed_sha256


def test_bad_input_says_what_and_where(client, collector, case, unit, owner):
    charge(unit, owner, "2026-09", "250.00")
    client.force_login(collector)
    response = client.post(
        f"/collection/cases/{case.pk}/resolution/",
        {"action": "plan", "kind": "custom", "schedule": "2027-01-10 200"},
        follow=True,
    )
    assert "each line is a date and an amount" in response.content.decode()
    assert not InstallmentPlan.objects.exists()


def test_lists_render_and_another_estates_records_are_404(
    client, collector, case, unit, owner, make_staff, other_estate
):
    charge(unit, owner, "2026-09", "250.00")
    client.force_login(collector)
    client.post(
        f"/collection/cases/{case.pk}/resolution/",
        {"action": "dispute", "category": "repair", "description": "电梯坏了一个月"},
    )
    order = WorkOrder.objects.get()
    for url in [
        "/collection/plans/",
        "/collection/disputes/",
        "/collection/work-orders/",
        "/collection/demands/",
        "/collection/legal/",
        "/collection/limitation/",
        f"/collection/work-orders/{order.pk}/",
        f"/collection/disputes/{order.dispute_id}/",
    ]:
        assert client.get(url).status_code == 200, url
    stranger = make_staff("collector", estates=[other_estate])
    client.force_login(stranger)
    assert client.get(f"/collection/cases/{case.pk}/resolution/").status_code == 404
    assert client.get(f"/collection/work-orders/{order.pk}/").status_code == 404
    other_case = ArrearsCase.objects.filter(pk=case.pk).first()
    assert other_case is not None
