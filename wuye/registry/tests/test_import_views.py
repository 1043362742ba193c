"""The import pages with a small file (checked and written within the request): upload ->
the job's preview (counts, first rows, every error) -> confirm -> written."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuye.audit.models import AuditEvent
from wuye.registry.models import ImportJob, Unit

from .fixtures.sheets import csv_bytes, xlsx_bytes

GOOD = [
    ["楼栋", "房号", "建筑面积", "业主姓名", "手机"],
    ["1", "1-1-101", 80, "张三", "13800001111"],
    ["1", "1-1-102", 90.5, "", ""],
]


def _upload(client, estate, rows, kind="units", name="units.xlsx", **flags):
    data = xlsx_bytes(rows) if name.endswith(".xlsx") else csv_bytes(rows, "gbk")
    return client.post(
        reverse("registry:import"),
        {"kind": kind, "estate": estate.pk, "file": SimpleUploadedFile(name, data), **flags},
    )


def _job(response) -> ImportJob:
    assert response.status_code == 302, response.status_code
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


@pytest.mark.django_db
def test_the_import_page_offers_only_my_estates(client, make_staff, estate, other_estate):
    clerk = make_staff("customer_service", estates=[estate])
    client.force_login(clerk)
    page = client.get(reverse("registry:import")).content.decode()
    assert 'id="id_kind"' in page and 'id="id_file"' in page and 'id="import-preview"' in page
    assert estate.name in page and other_estate.name not in page


@pytest.mark.django_db
def test_preview_then_confirm_writes_the_units_and_says_so(client, make_staff, building):
    # given
    clerk = make_staff("customer_service", estates=[building.estate])
    client.force_login(clerk)
    # when: a small file is uploaded (checked within the request)
    job = _job(_upload(client, building.estate, GOOD))
    # then: its page shows a preview with counts and rows, and nothing is written yet
    preview = client.get(reverse("registry:import_job", args=[job.pk]))
    page = preview.content.decode()
    assert preview.status_code == 200 and 'id="import-confirm"' in page
    assert "1-1-101" in page and "90.50" in page
    counts = {str(name): value for name, value in preview.context["counts"].items()}
    assert counts == {"new units": 2, "new owners": 1, "ownerships recorded": 1}
    assert not Unit.objects.exists()
    # when: confirmed
    done = client.post(reverse("registry:import_confirm", args=[job.pk]))
    # then
    assert done.status_code == 302
    assert done["Location"] == f"/registry/units/?estate={building.estate_id}"
    assert [str(m) for m in get_messages(done.wsgi_request)] == ["Imported 2 units"]
    assert Unit.objects.count() == 2
    assert AuditEvent.objects.filter(action="import").count() == 1
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.confirmed_by == clerk
    # and the job cannot be confirmed again
    again = client.post(reverse("registry:import_confirm", args=[job.pk]), follow=True)
    assert "no longer waiting for confirmation" in again.content.decode()
    assert Unit.objects.count() == 2


@pytest.mark.django_db
def test_a_preview_with_errors_lists_them_and_offers_no_confirm(client, make_staff, building):
    clerk = make_staff("customer_service", estates=[building.estate])
    client.force_login(clerk)
    rows = GOOD + [["1", "1-1-103", "-2", "", ""], ["8", "8-1-101", "70", "", ""]]
    job = _job(_upload(client, building.estate, rows, name="units.csv"))
    page = client.get(reverse("registry:import_job", args=[job.pk])).content.decode()
    assert 'id="import-confirm"' not in page
    job.refresh_from_db()
    assert job.state == ImportJob.State.REJECTED
    assert [(row, column) for row, column, _reason in job.errors] == [(4, "建筑面积"), (5, "楼栋")]
    assert "must be more than zero" in page and "unknown building 8" in page
    # confirming anyway is refused
    client.post(reverse("registry:import_confirm", args=[job.pk]))
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_confirm_revalidates_what_changed_since_the_preview(client, make_staff, building):
    clerk = make_staff("customer_service", estates=[building.estate])
    client.force_login(clerk)
    job = _job(_upload(client, building.estate, GOOD))
    Unit.objects.create(estate=building.estate, building=building, number="1-1-102")
    refused = client.post(reverse("registry:import_confirm", args=[job.pk]), follow=True)
    assert "already exists" in refused.content.decode()
    job.refresh_from_db()
    assert job.state == ImportJob.State.REJECTED
    assert Unit.objects.count() == 1


@pytest.mark.django_db
def test_a_role_without_the_import_permission_gets_403(client, make_staff, building):
    clerk = make_staff("customer_service", estates=[building.estate])
    client.force_login(clerk)
    job = _job(_upload(client, building.estate, GOOD))
    cashier = make_staff("cashier", estates=[building.estate])
    client.force_login(cashier)
    assert client.get(reverse("registry:import")).status_code == 403
    assert _upload(client, building.estate, GOOD).status_code == 403
    assert client.get(reverse("registry:import_job", args=[job.pk])).status_code == 403
    assert client.post(reverse("registry:import_confirm", args=[job.pk])).status_code == 403
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_another_estate_is_not_there_for_me(client, make_staff, building, other_estate):
    clerk = make_staff("customer_service", estates=[other_estate])
    client.force_login(clerk)
    assert _upload(client, building.estate, GOOD).status_code == 404
    assert not Unit.objects.exists() and not ImportJob.objects.exists()


@pytest.mark.django_db
def test_another_estates_import_job_is_a_404(client, make_staff, building, other_estate):
    # given a job of estate A
    clerk = make_staff("customer_service", estates=[building.estate])
    client.force_login(clerk)
    job = _job(_upload(client, building.estate, GOOD))
    # when a clerk of estate B tries its page and its buttons
    stranger = make_staff("customer_service", estates=[other_estate])
    client.force_login(stranger)
    # then there is no such job, and it is not in their list
    for name in ("import_confirm", "import_discard", "import_retry"):
        assert client.post(reverse(f"registry:{name}", args=[job.pk])).status_code == 404
    assert client.get(reverse("registry:import_job", args=[job.pk])).status_code == 404
    assert job.filename not in client.get(reverse("registry:import")).content.decode()
    assert not Unit.objects.exists()
    # while a colleague of estate A finds it among the recent imports
    colleague = make_staff("finance", estates=[building.estate])
    client.force_login(colleague)
    assert (
        f'href="/registry/import/jobs/{job.pk}/"'
        in client.get(reverse("registry:import")).content.decode()
    )
