"""Large imports as background jobs: upload -> queued -> the worker checks (progress every
thousand rows) -> preview or every error -> confirm -> the worker writes, all or nothing.

Tasks go to django-tasks' DummyBackend here, so a test sees what was enqueued and runs it
itself, as the worker would."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from wuye.audit.models import AuditEvent
from wuye.registry import tasks
from wuye.registry.imports import jobs, rows_estimate, write
from wuye.registry.imports.reading import open_table
from wuye.registry.models import ImportFile, ImportJob, Party, Unit, UnitParty

from .fixtures.sheets import csv_bytes, xlsx_bytes
from .fixtures.sheets import write as write_file

HEADER = ["楼栋", "房号", "建筑面积", "业主姓名", "手机"]

pytestmark = pytest.mark.django_db


def units_rows(count: int, *, bad: dict[int, list] | None = None) -> list[list]:
    """A units sheet of `count` rows with owners; `bad` replaces some data rows (0-based)."""
    rows = [HEADER]
    for i in range(count):
        row = ["1", f"1-{i // 200 + 1}-{i % 200 + 101}", "88.50", f"业主{i}", f"139{i:08d}"]
        rows.append((bad or {}).get(i, row))
    return rows


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
def small_threshold(monkeypatch):
    """Files above 5 rows go to the worker (the real threshold is 2,000)."""
    monkeypatch.setattr(jobs, "IMMEDIATE_ROWS", 5)


@pytest.fixture
def clerk(client, make_staff, building):
    user = make_staff("customer_service", estates=[building.estate])
    client.force_login(user)
    return user


def run_queued() -> list[str]:
    """Run what was enqueued, as the worker would; returns the tasks' names."""
    ran = []
    while default_task_backend.results:
        result = default_task_backend.results.pop(0)
        assert result.task.queue_name == "bulk"
        result.task.call(*result.args, **result.kwargs)
        ran.append(result.task.name)
    return ran


def upload(client, estate, rows, name="units.csv", **flags) -> ImportJob:
    data = csv_bytes(rows, "gbk")
    response = client.post(
        reverse("registry:import"),
        {"kind": "units", "estate": estate.pk, "file": SimpleUploadedFile(name, data), **flags},
    )
    assert response.status_code == 302, response.status_code
    job_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    return ImportJob.objects.get(pk=job_id)


def job_page(client, job, htmx=False) -> str:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.get(reverse("registry:import_job", args=[job.pk]), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_a_large_messy_file_is_checked_by_the_worker_and_every_error_shown(
    client, clerk, building, small_threshold
):
    # given a file of 12 rows with a bad area in row 4 and an unknown building in row 9
    rows = units_rows(12, bad={2: ["1", "1-1-103", "-2", "", ""], 7: ["8", "8-1-1", "70", "", ""]})
    # when it is uploaded
    job = upload(client, building.estate, rows)
    # then a job waits for the worker, its page polls, and nothing is checked yet
    assert job.state == ImportJob.State.QUEUED
    assert [r.task.name for r in default_task_backend.results] == ["check_import"]
    fragment = job_page(client, job, htmx=True)
    assert fragment.startswith('<div id="import-job" data-state="queued"')
    assert 'hx-trigger="every 2s"' in fragment and 'id="import-progress"' in fragment
    # when the worker runs
    assert run_queued() == ["check_import"]
    # then the job is rejected with each error by row and column, and nothing is written
    job.refresh_from_db()
    assert job.state == ImportJob.State.REJECTED and job.rows == 12 and job.errors_total == 2
    assert [(row, column) for row, column, _reason in job.errors] == [(4, "建筑面积"), (9, "楼栋")]
    fragment = job_page(client, job, htmx=True)
    assert "hx-trigger" not in fragment  # finished: the page stops polling
    assert "must be more than zero" in fragment and "unknown building 8" in fragment
    assert 'id="import-confirm"' not in fragment
    assert not Unit.objects.exists() and not Party.objects.exists()


def test_a_clean_file_is_confirmed_then_written_by_the_worker_with_the_counts(
    client, clerk, building, small_threshold
):
    # given a clean file of 30 units with their owners, checked by the worker
    job = upload(client, building.estate, units_rows(30))
    run_queued()
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED
    page = job_page(client, job)
    assert 'id="import-confirm"' in page and "1-1-101" in page
    assert not Unit.objects.exists()
    # when staff confirm
    response = client.post(reverse("registry:import_confirm", args=[job.pk]))
    # then the write is queued and the page follows it
    assert response["Location"] == reverse("registry:import_job", args=[job.pk])
    job.refresh_from_db()
    assert job.state == ImportJob.State.CONFIRMED and job.confirmed_by == clerk
    assert not Unit.objects.exists()
    assert run_queued() == ["apply_import"]
    # then the units, owners and ownerships are written, and the page shows the counts
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.finished_at is not None
    assert (Unit.objects.count(), Party.objects.count(), UnitParty.objects.count()) == (30, 30, 30)
    assert job.report["counts"]["units_created"] == 30
    page = job_page(client, job)
    assert 'id="import-done"' in page and "new units</span>: <strong>30</strong>" in page
    assert 'id="import-records"' in page and "hx-trigger" not in page
    event = AuditEvent.objects.get(action="import")
    assert event.actor == clerk and event.source == "task"


def test_progress_moves_every_thousand_rows_and_ends_at_the_total(
    client, clerk, building, monkeypatch
):
    # given a file of 3,000 units (above the 2,000 rows checked within the request)
    saved = []
    save = jobs._save_progress

    def spy(job_id, fields):
        saved.append((fields["step"], fields["rows_done"], fields["rows_total"]))
        save(job_id, fields)

    monkeypatch.setattr(jobs, "_save_progress", spy)
    job = upload(client, building.estate, units_rows(3000))
    assert job.state == ImportJob.State.QUEUED and job.rows_total > jobs.IMMEDIATE_ROWS
    # when the worker checks it
    run_queued()
    # then the job row heard of every thousand rows, and ended at the total
    assert saved == [
        ("reading", 1000, 3001),
        ("reading", 2000, 3001),
        ("reading", 3000, 3001),
        ("reading", 3001, 3001),
    ]
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED and job.rows == 3000
    assert job.rows_done == job.rows_total == 3001 and job.progress_percent == 100
    # when it is confirmed and written
    saved.clear()
    client.post(reverse("registry:import_confirm", args=[job.pk]))
    run_queued()
    # then the second reading was told too, then the write (inside its transaction only on
    # PostgreSQL, through its own connection: see the test below)
    assert [s for s in saved if s[0] == "reading"][-1] == ("reading", 3001, 3001)
    assert ("writing", 0, 9000) in saved
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and Unit.objects.count() == 3000


def test_the_same_file_uploaded_again_while_pending_gives_the_same_job(
    client, clerk, building, small_threshold
):
    rows = units_rows(10)
    first = upload(client, building.estate, rows)
    second = upload(client, building.estate, rows, name="copy of units.csv")
    assert second.pk == first.pk and ImportJob.objects.count() == 1
    assert len(default_task_backend.results) == 1  # checked once
    run_queued()
    assert upload(client, building.estate, rows).pk == first.pk  # still pending: checked
    # once it is imported the same file is a new job (which finds the units exist)
    client.post(reverse("registry:import_confirm", args=[first.pk]))
    run_queued()
    third = upload(client, building.estate, rows)
    assert third.pk != first.pk
    run_queued()
    third.refresh_from_db()
    assert third.state == ImportJob.State.REJECTED and "already exists" in third.errors[0][2]


def test_a_race_of_two_uploads_of_one_file_keeps_one_job(building, clerk):
    # the UNIQUE constraint on pending jobs decides, not the look-up before it
    data = csv_bytes(units_rows(3))
    job = ImportJob.objects.create(
        estate=building.estate,
        kind="units",
        filename="a.csv",
        sha256=hashlib.sha256(data).hexdigest(),
    )
    found, created = jobs.import_job_upload(
        actor=clerk, estate=building.estate, kind="units", content=data, filename="b.csv"
    )
    assert (found.pk, created) == (job.pk, False)


def test_a_failure_mid_write_leaves_no_rows_and_the_job_can_run_again(
    client, clerk, building, small_threshold, monkeypatch
):
    # given a checked, confirmed file of 20 units with owners
    job = upload(client, building.estate, units_rows(20))
    run_queued()
    client.post(reverse("registry:import_confirm", args=[job.pk]))
    # and a database that fails after the units and owners are in, before the ownerships
    insert = write.insert_rows

    def failing(model, rows, *args, **kwargs):
        if model is UnitParty:
            raise RuntimeError("disk full")
        return insert(model, rows, *args, **kwargs)

    monkeypatch.setattr(write, "insert_rows", failing)
    # when the worker writes it
    with pytest.raises(RuntimeError, match="disk full"):
        run_queued()
    # then nothing is written and the job says so
    assert (Unit.objects.count(), Party.objects.count(), UnitParty.objects.count()) == (0, 0, 0)
    assert not AuditEvent.objects.filter(action="import").exists()
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and "disk full" in job.message
    assert 'id="import-retry"' in job_page(client, job)
    # when the database is well again and staff run it again
    monkeypatch.setattr(write, "insert_rows", insert)
    client.post(reverse("registry:import_retry", args=[job.pk]))
    run_queued()
    client.post(reverse("registry:import_confirm", args=[job.pk]))
    run_queued()
    # then it is imported once
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and UnitParty.objects.count() == 20


def test_a_job_stopped_while_writing_writes_nothing(
    client, clerk, building, small_threshold, monkeypatch
):
    # given a confirmed job that the sweep takes for stalled the moment its write begins
    job = upload(client, building.estate, units_rows(8))
    run_queued()
    client.post(reverse("registry:import_confirm", args=[job.pk]))
    apply = write.apply

    def stalled(plan, **kwargs):
        apply(plan, **kwargs)
        ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.FAILED)

    monkeypatch.setattr("wuye.registry.imports.apply", stalled)
    run_queued()
    # then the rows written went back: `done` could not be recorded with them
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and "stopped while it was writing" in job.message
    assert not Unit.objects.exists()


def test_small_files_are_checked_in_the_request_and_large_ones_by_the_worker(
    client, clerk, building, small_threshold
):
    small = upload(client, building.estate, units_rows(4))  # 5 lines with the header
    assert small.state == ImportJob.State.CHECKED and not default_task_backend.results
    large = upload(client, building.estate, units_rows(5))
    assert large.state == ImportJob.State.QUEUED
    assert [r.task.name for r in default_task_backend.results] == ["check_import"]


def test_only_the_first_errors_are_kept_and_all_are_counted(
    client, clerk, building, small_threshold, monkeypatch
):
    monkeypatch.setattr(jobs, "ERRORS_KEPT", 2)
    bad = {i: ["1", f"1-1-{i + 101}", "0", "", ""] for i in range(5)}
    job = upload(client, building.estate, units_rows(8, bad=bad))
    run_queued()
    job.refresh_from_db()
    assert (job.state, job.errors_total, len(job.errors)) == (ImportJob.State.REJECTED, 5, 2)
    page = job_page(client, job)
    assert "5 errors: nothing will be written" in page and "The first 2 are listed." in page


def test_a_discarded_job_frees_the_file_for_a_new_upload(client, clerk, building):
    job = upload(client, building.estate, units_rows(3))
    assert job.state == ImportJob.State.CHECKED
    response = client.post(reverse("registry:import_discard", args=[job.pk]))
    assert response["Location"] == reverse("registry:import")
    job.refresh_from_db()
    assert job.state == ImportJob.State.CANCELLED
    assert upload(client, building.estate, units_rows(3)).pk != job.pk


def test_the_sweep_fails_stalled_jobs_expires_old_ones_and_deletes_old_files(
    client, clerk, building, small_threshold
):
    now = timezone.now()
    stalled = upload(client, building.estate, units_rows(6))
    waiting = upload(client, building.estate, units_rows(7))
    old = upload(client, building.estate, units_rows(8))
    ImportJob.objects.filter(pk=stalled.pk).update(
        state=ImportJob.State.CHECKING, heartbeat_at=now - timedelta(minutes=20)
    )
    ImportJob.objects.filter(pk=waiting.pk).update(
        state=ImportJob.State.CHECKED, finished_at=now - timedelta(days=8)
    )
    ImportJob.objects.filter(pk=old.pk).update(
        state=ImportJob.State.DONE, finished_at=now - timedelta(days=8)
    )
    assert tasks.sweep_import_jobs.call() == {"stalled": 1, "expired": 1, "files_deleted": 2}
    states = dict(ImportJob.objects.values_list("pk", "state"))
    assert states == {stalled.pk: "failed", waiting.pk: "cancelled", old.pk: "done"}
    # the failed job keeps its file, to be run again; the expired one needs it no more
    assert set(ImportFile.objects.values_list("job_id", flat=True)) == {stalled.pk}
    # a week later the failed job's file goes too
    jobs.import_jobs_sweep(now=now + timedelta(days=8))
    assert not ImportFile.objects.exists()


def test_a_job_keeps_its_file_only_while_it_may_read_it_and_a_csv_is_stored_compressed(
    client, clerk, building, small_threshold
):
    # given a CSV of 20 units waiting for confirmation
    job = upload(client, building.estate, units_rows(20))
    run_queued()
    stored = ImportFile.objects.get(job=job)
    assert stored.compression == ImportFile.Compression.GZIP
    assert len(bytes(stored.content)) < job.size
    # when it is confirmed and written
    client.post(reverse("registry:import_confirm", args=[job.pk]))
    run_queued()
    job.refresh_from_db()
    # then the units are in and the file is gone
    assert job.state == ImportJob.State.DONE and Unit.objects.count() == 20
    assert not ImportFile.objects.filter(job=job).exists()
    # a discarded job's file goes at once too
    other = upload(client, building.estate, units_rows(21))
    run_queued()
    client.post(reverse("registry:import_discard", args=[other.pk]))
    assert not ImportFile.objects.filter(job=other).exists()


def test_the_command_shows_a_progress_bar_when_asked(building, tmp_path, capsys):
    path = write_file(tmp_path, "u.csv", csv_bytes(units_rows(1500)))
    call_command("import", "units", str(path), "--estate", "HY", "--progress")
    captured = capsys.readouterr()
    assert "1,000/1,501 rows checked" in captured.err
    assert "1,501/1,501 rows checked" in captured.err
    assert "4,500/4,500 records written" in captured.err
    assert "1500 rows imported" in captured.out and Unit.objects.count() == 1500


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a second connection's view needs PostgreSQL"
)
def test_the_writes_progress_is_visible_to_others_before_the_rows_commit(
    building, make_staff, monkeypatch
):
    # given a checked and confirmed job of 2,500 units with owners (7,500 records)
    clerk = make_staff("customer_service", estates=[building.estate])
    job, _created = jobs.import_job_upload(
        actor=clerk,
        estate=building.estate,
        kind="units",
        content=csv_bytes(units_rows(2500)),
        filename="u.csv",
    )
    jobs.import_job_check(job_id=job.pk)
    jobs.import_job_confirm(actor=clerk, job=job)
    # and a look from another session each time progress is saved during the write
    seen = []
    save_aside = jobs._Recorder._save_aside

    def look(recorder, fields):
        save_aside(recorder, fields)
        with recorder.side.cursor() as cursor:
            cursor.execute(
                "SELECT state, step, rows_done FROM registry_importjob WHERE id = %s", [job.pk]
            )
            row = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM registry_unit")
            seen.append((*row, cursor.fetchone()[0]))

    monkeypatch.setattr(jobs._Recorder, "_save_aside", look)
    # when the worker writes it
    jobs.import_job_apply(job_id=job.pk)
    # then others saw the count move while no unit was visible yet
    assert [done for _state, _step, done, _units in seen] == [
        1000,
        2000,
        3500,
        4500,
        6000,
        7000,
        7500,
    ]
    assert {(state, step, units) for state, step, _done, units in seen} == {
        ("applying", "writing", 0)
    }
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and Unit.objects.count() == 2500


def test_the_bar_total_is_counted_without_parsing_the_sheet():
    # a sheet with a title line, 2,500 rows, a blank row and one more, as .xlsx and .csv:
    # the total is the number of rows the reader will give (openpyxl writes no blank row)
    rows = [["房屋清单"], *units_rows(2500), [], ["1", "1-9-101", "70"]]
    for data, name, total in ((xlsx_bytes(rows), "u.xlsx", 2503), (csv_bytes(rows), "u.csv", 2504)):
        sheet = open_table(io.BytesIO(data), name).sheets[0]
        assert sheet.count_rows() == len(list(sheet.rows)) == total
        assert rows_estimate(io.BytesIO(data)) == total
        assert 2000 < rows_estimate(io.BytesIO(data), limit=2000) <= total
    assert rows_estimate(io.BytesIO(b"not a workbook at all")) == 1


def test_a_job_nobody_takes_says_no_worker_seems_to_run(client, clerk, building, small_threshold):
    job = upload(client, building.estate, units_rows(8))
    assert 'id="import-no-worker"' not in job_page(client, job)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert "is one running (wuye db_worker)?" in job_page(client, job, htmx=True)


def test_a_file_over_the_size_limit_is_refused_on_the_form(client, clerk, building, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_FILE_BYTES", 2**20)
    data = csv_bytes(units_rows(30_000))
    assert len(data) > 2**20
    response = client.post(
        reverse("registry:import"),
        {"kind": "units", "estate": building.estate.pk, "file": SimpleUploadedFile("u.csv", data)},
    )
    assert (
        response.status_code == 200 and "The file is larger than 1 MB" in response.content.decode()
    )
    assert not ImportJob.objects.exists()
