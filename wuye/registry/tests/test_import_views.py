"""The import pages: upload -> preview (counts, first rows, every error) -> confirm -> written."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuye.audit.models import AuditEvent
from wuye.registry.models import Unit

from .fixtures.sheets import csv_bytes, xlsx_bytes

GOOD = [
    ["楼栋", "房号", "建筑面积", "业主姓名", "手机"],
    ["1", "1-1-101", 80, "张三", "13800001111"],
    ["1", "1-1-102", 90.5, "", ""],
]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _upload(client, estate, rows, kind="units", name="units.xlsx", **flags):
    data = xlsx_bytes(rows) if name.endswith(".xlsx") else csv_bytes(rows, "gbk")
    return client.post(
        reverse("registry:import"),
        {"kind": kind, "estate": estate.pk, "file": SimpleUploadedFile(name, data), **flags},
    )


@pytest.mark.django_db
def test_the_import_page_offers_only_my_estates(client, make_staff, estate, other_estate):
    clerk = make_staff("customer_service", estates=[estate])
    client.force_login(clerk)
    page = client.get(reverse("registry:import")).content.decode()
    assert 'id="id_kind"' in page and 'id="id_file"' in page and 'id="import-preview"' in page
    assert estate.name in page and other_estate.name not in page


@pytest.mark.django_db
def test_preview_then_confirm_writes_the_units_and_says_so(client, make_staff, building, media):
    # given
    clerk = make_staff("customer_service", estates=[building.estate])
    client.force_login(clerk)
    # when: the file is uploaded
    preview = _upload(client, building.estate, GOOD)
    # then: a preview with counts and rows, and nothing written yet
    page = preview.content.decode()
    assert preview.status_code == 200 and 'id="import-confirm"' in page
    assert "1-1-101" in page and "90.50" in page
    assert not Unit.objects.exists()
    token = preview.context["token"]
    assert list((media / "imports" / token).iterdir())
    # when: confirmed
    done = client.post(reverse("registry:import_confirm", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert done.status_code == 302
    assert done["Location"] == f"/registry/units/?estate={building.estate_id}"
    assert [str(m) for m in get_messages(done.wsgi_request)] == ["Imported 2 units"]
    assert Unit.objects.count() == 2
    assert AuditEvent.objects.filter(action="import").count() == 1
    assert not (media / "imports" / token).exists() or not list(
        (media / "imports" / token).iterdir()
    )
    # and the token cannot be used again
    again = client.post(reverse("registry:import_confirm", args=[token]))
    assert again.status_code == 404


@pytest.mark.django_db
def test_a_preview_with_errors_lists_them_and_offers_no_confirm(
    client, make_staff, building, media
):
    clerk = make_staff("customer_service", estates=[building.estate])
    client.force_login(clerk)
    rows = GOOD + [["1", "1-1-103", "-2", "", ""], ["8", "8-1-101", "70", "", ""]]
    preview = _upload(client, building.estate, rows, name="units.csv")
    page = preview.content.decode()
    assert 'id="import-confirm"' not in page
    errors = [(e.row, e.column) for e in preview.context["report"].errors]
    assert errors == [(4, "建筑面积"), (5, "楼栋")]
    assert "must be more than zero" in page and "unknown building 8" in page
    # confirming anyway is re-validated and refused
    token = preview.context["token"]
    refused = client.post(reverse("registry:import_confirm", args=[token]))
    assert refused.status_code == 409 and not Unit.objects.exists()


@pytest.mark.django_db
def test_confirm_revalidates_what_changed_since_the_preview(client, make_staff, building, media):
    clerk = make_staff("customer_service", estates=[building.estate])
    client.force_login(clerk)
    preview = _upload(client, building.estate, GOOD)
    Unit.objects.create(estate=building.estate, building=building, number="1-1-102")
    refused = client.post(reverse("registry:import_confirm", args=[preview.context["token"]]))
    assert refused.status_code == 409 and "already exists" in refused.content.decode()
    assert Unit.objects.count() == 1


@pytest.mark.django_db
def test_a_role_without_the_import_permission_gets_403(client, make_staff, building, media):
    cashier = make_staff("cashier", estates=[building.estate])
    client.force_login(cashier)
    assert client.get(reverse("registry:import")).status_code == 403
    assert _upload(client, building.estate, GOOD).status_code == 403
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_another_estate_is_not_there_for_me(client, make_staff, building, other_estate, media):
    clerk = make_staff("customer_service", estates=[other_estate])
    client.force_login(clerk)
    assert _upload(client, building.estate, GOOD).status_code == 404
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_someone_elses_preview_token_is_not_mine(client, make_staff, building, media):
    clerk = make_staff("customer_service", estates=[building.estate])
    client.force_login(clerk)
    token = _upload(client, building.estate, GOOD).context["token"]
    colleague = make_staff("customer_service", estates=[building.estate])
    client.force_login(colleague)
    assert client.post(reverse("registry:import_confirm", args=[token])).status_code == 404
    assert not Unit.objects.exists()
