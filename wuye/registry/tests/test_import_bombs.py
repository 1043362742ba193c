"""Zip bombs and sheets too large to read, on every way into the registry import: the
service, the page (in the request and by the worker), the background job and the command
line. Each is refused in a second with a message saying why; nothing hangs in "checking"."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_tasks import default_task_backend

from wuye.core.tests.bombs import bomb_xlsx, rows_xlsx
from wuye.registry.imports import import_check, jobs, reading
from wuye.registry.models import ImportFile, ImportJob, Unit

pytestmark = pytest.mark.django_db

REFUSED = "would expand from"


@pytest.fixture(autouse=True)
def _queued_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "bulk", "messages"],
        }
    }
    yield
    default_task_backend.clear()


@pytest.fixture
def clerk(client, make_staff, building):
    user = make_staff("customer_service", estates=[building.estate])
    client.force_login(user)
    return user


def _upload(client, estate, data: bytes, name="units.xlsx") -> ImportJob:
    response = client.post(
        reverse("registry:import"),
        {"kind": "units", "estate": estate.pk, "file": SimpleUploadedFile(name, data)},
    )
    assert response.status_code == 302, response.status_code
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def test_the_service_refuses_a_bomb_with_the_reason_and_writes_nothing(estate):
    report = import_check(
        actor=None, estate=estate, kind="units", file=io.BytesIO(bomb_xlsx(40)), filename="b.xlsx"
    )
    assert not report.ok
    [error] = report.errors
    assert error.row == 1 and REFUSED in error.reason
    assert not Unit.objects.exists()


def test_the_page_refuses_a_bomb_in_the_request_and_says_why(client, clerk, building):
    # given a bomb that declares a handful of rows, so the page checks it at once
    job = _upload(client, building.estate, bomb_xlsx(40))
    # then the job is rejected, not left checking, and its page says why
    assert job.state == ImportJob.State.REJECTED
    assert REFUSED in job.errors[0][2]
    page = client.get(reverse("registry:import_job", args=[job.pk]))
    assert page.status_code == 200 and REFUSED in page.content.decode()
    # and nothing of the file is kept
    assert not ImportFile.objects.filter(job=job).exists()


def test_the_worker_refuses_a_bomb_it_is_given(client, clerk, building, monkeypatch):
    # given a bomb sent to the background worker (as a file of many rows would be)
    monkeypatch.setattr(jobs, "IMMEDIATE_ROWS", -1)
    job = _upload(client, building.estate, bomb_xlsx(40))
    assert job.state == ImportJob.State.QUEUED
    # when the worker runs the check
    [queued] = default_task_backend.results
    queued.task.call(*queued.args, **queued.kwargs)
    # then the job ends with the reason
    job.refresh_from_db()
    assert job.state == ImportJob.State.REJECTED and REFUSED in job.errors[0][2]


def test_a_sheet_of_too_many_rows_is_stopped_by_the_budget_not_read_to_the_end(
    client, clerk, building, monkeypatch
):
    # given a well-compressed sheet that passes the archive check but has more rows than
    # any registry (the budget is lowered to keep the test fast)
    monkeypatch.setattr(reading, "MAX_ROWS", 500)
    monkeypatch.setattr(jobs, "IMMEDIATE_ROWS", -1)
    job = _upload(client, building.estate, rows_xlsx(2000))
    [queued] = default_task_backend.results
    queued.task.call(*queued.args, **queued.kwargs)
    job.refresh_from_db()
    assert job.state == ImportJob.State.REJECTED
    assert "more than 500 rows" in job.errors[0][2]


def test_a_sheet_of_too_many_cells_is_stopped_too(estate, monkeypatch):
    monkeypatch.setattr(reading, "MAX_CELLS", 1000)
    report = import_check(
        actor=None,
        estate=estate,
        kind="units",
        file=io.BytesIO(rows_xlsx(100, cells_per_row=20)),
        filename="wide.xlsx",
    )
    assert "more than 1,000 cells" in report.errors[0].reason


def test_a_wide_xml_sheet_goes_to_the_worker_however_few_rows_it_declares(monkeypatch):
    monkeypatch.setattr(reading, "IN_REQUEST_XML", 1000)
    estimate = reading.rows_estimate(io.BytesIO(rows_xlsx(30, cells_per_row=10)), limit=2000)
    assert estimate > 2000


def test_the_command_line_refuses_a_bomb(estate, tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb_xlsx(40))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 errors"):
        call_command("import", "units", str(path), estate=estate.code, stderr=err)
    assert REFUSED in err.getvalue()
    assert not Unit.objects.exists()
