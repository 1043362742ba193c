"""Import jobs: an uploaded registry file checked and written by the background worker, with
progress the staff page polls (DESIGN.md §3: a long job reports how far it got).

    upload -> queued -> (worker) checking -> checked | rejected
    checked -> (staff) confirmed -> (worker) applying -> done | rejected | failed

Decisions:
- The file's bytes are kept in the database (`ImportFile`), not on disk: every web process
  and worker, on any machine, then reads the same file with no shared volume or object
  store to configure, it survives restarts, and a job can never lose its file or a file its
  job (docs/adr/0004). A CSV is stored gzip-compressed (a 99 MB CSV is about 15 MB), an
  .xlsx as it is (it is a zip archive already); both are compressed and read back streaming,
  chunk by chunk, never whole in memory as text. The file is kept only while the job may
  still need it: deleted when the job is done, rejected or discarded (in the same
  transaction), kept for a failed job until KEEP_FILES after it failed (it can be run
  again), then deleted by `import_jobs_sweep`.
- Files of at most IMMEDIATE_ROWS rows are checked and written within the request, as
  before: about two seconds at the ~1,000 rows/s measured on a busy 2-core machine, so the
  preview follows the upload at once and a worker that is not running does not stop a
  small import. Larger files go to the worker (queue "bulk").
- Progress: the check runs outside any transaction, so its updates of the job row are
  visible at once. The write is one transaction (all or nothing); progress inside it goes
  through a second connection on PostgreSQL. On SQLite the only writer is the import itself
  until it commits, so the page shows "writing" without a count.
- The job becomes `done` inside the import's transaction: the rows and `done` commit
  together. A worker that dies mid-way leaves `checking` or `applying` with nothing written;
  the sweep marks it `failed` after STALLED_AFTER without a sign of life, and it can be run
  again.
"""

import io
import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError
from wuye.core.stored_files import file_pack, file_unpack

from ..models import Estate, ImportFile, ImportJob
from ..selectors import get_scoped, scope
from . import KINDS, ImportRejected, ImportReport, authorise, import_apply, import_check
from .progress import READING
from .reading import rows_estimate

log = logging.getLogger(__name__)

ERRORS_KEPT = 1000
IMMEDIATE_ROWS = 2000
MAX_FILE_BYTES = 100 * 2**20  # ten times a 100,000-unit workbook with owners
KEEP_FILES = timedelta(days=7)
STALLED_AFTER = timedelta(minutes=15)

State = ImportJob.State


def _move(job_id: int, sources: str | tuple[str, ...], to: str, **fields: Any) -> bool:
    """Move the job from one of `sources` to `to` with one conditional UPDATE: of two workers,
    or a worker and a click, only one wins."""
    sources = (sources,) if isinstance(sources, str) else sources
    for source in sources:
        if to not in ImportJob.TRANSITIONS[source]:
            raise ValueError(f"an import job does not go from {source} to {to}")
    return bool(ImportJob.objects.filter(pk=job_id, state__in=sources).update(state=to, **fields))


def _cell(value: Any) -> Any:
    """A preview cell as JSON keeps it."""
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _result(report: ImportReport) -> dict[str, Any]:
    """What a check (or an import) found, as the job keeps it."""
    columns = report.checked.columns if report.checked else []
    return {
        "rows": report.rows,
        "errors": [[e.row, e.column, e.reason] for e in report.errors[:ERRORS_KEPT]],
        "errors_total": len(report.errors),
        "report": {
            "columns": [shown for shown, _column in columns],
            "ignored_columns": report.ignored_columns,
            "preview": [
                {
                    "row": item["row"],
                    "cells": [
                        _cell(item["values"].get(column.key, item["raw"].get(column.key)))
                        for _shown, column in columns
                    ],
                }
                for item in report.preview
            ],
            "counts": report.counts,
            "imported": report.imported,
        },
    }


# --- progress ------------------------------------------------------------------------------


def _save_progress(job_id: int, fields: dict[str, Any]) -> None:
    ImportJob.objects.filter(pk=job_id, state__in=ImportJob.RUNNING).update(**fields)


def write_progress_visible() -> bool:
    """Whether the page sees the count of records written before the import commits."""
    return connection.vendor == "postgresql"


class _Recorder:
    """Writes a job's progress where the staff page reads it at once: on the job's own
    connection while no transaction is open (the check), else through a second, autocommit
    connection (PostgreSQL), else not until the import commits (SQLite)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.depth = len(connection.atomic_blocks)  # a test's own transaction is not ours
        self.side = None

    def __call__(self, step: str, done: int, total: int) -> None:
        fields = {
            "step": step,
            "rows_done": done,
            "rows_total": total,
            "heartbeat_at": timezone.now(),
        }
        if len(connection.atomic_blocks) <= self.depth:
            _save_progress(self.job_id, fields)
        elif write_progress_visible():
            self._save_aside(fields)

    def _save_aside(self, fields: dict[str, Any]) -> None:
        if self.side is None:
            own = connections[DEFAULT_DB_ALIAS]  # the wrapper, not the proxy `connection`
            self.side = type(own)(dict(own.settings_dict), alias="import_progress")
        table = connection.ops.quote_name(ImportJob._meta.db_table)
        names = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in fields)
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {names} WHERE id = %s AND state = %s",  # noqa: S608  # table/column names from the models, values bound  # nosec B608
                [*fields.values(), self.job_id, State.APPLYING],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


# --- services ------------------------------------------------------------------------------


def _packed(file: IO[bytes]) -> tuple[bytes, str, int, str]:
    """(bytes to store, their compression, the file's size, its sha256), read in chunks:
    an .xlsx as it is (a zip archive does not compress further), anything else gzipped
    (core.stored_files)."""
    packed = file_pack(file, max_bytes=MAX_FILE_BYTES)
    compression = ImportFile.Compression.GZIP if packed.compressed else ImportFile.Compression.NONE
    return packed.data, compression, packed.size, packed.sha256


def import_job_upload(
    *,
    actor,
    estate: Estate,
    kind: str,
    filename: str,
    file: IO[bytes] | None = None,
    content: bytes | None = None,
    update: bool = False,
    create_buildings: bool = False,
) -> tuple[ImportJob, bool]:
    """Keep an uploaded file (`file`, binary and seekable, e.g. the upload itself, or its
    `content`) as a job waiting to be checked: (job, True). The same file for the same
    estate and kind while an earlier job of it is still pending gives that job instead:
    (job, False). The UNIQUE constraint on pending jobs decides a race. The file is read in
    chunks and stored compressed (module docstring)."""
    if kind not in KINDS:
        raise DomainError(
            _("unknown import kind %(kind)s: use %(kinds)s")
            % {"kind": repr(kind), "kinds": ", ".join(KINDS)},
            field="kind",
        )
    authorise(actor, estate)
    if file is None:
        file = io.BytesIO(content or b"")
    stored, compression, size, sha256 = _packed(file)
    if size > MAX_FILE_BYTES:
        raise DomainError(
            _("the file is larger than %(size)s MB: split it") % {"size": MAX_FILE_BYTES // 2**20},
            field="file",
        )
    pending = ImportJob.objects.filter(
        estate=estate, kind=kind, sha256=sha256, state__in=ImportJob.PENDING
    )
    found = pending.first()
    if found is not None:
        return found, False
    rows_total = rows_estimate(file, limit=IMMEDIATE_ROWS)
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                estate=estate,
                kind=kind,
                filename=filename[-255:],
                size=size,
                sha256=sha256,
                update=update,
                create_buildings=create_buildings,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
                rows_total=rows_total,
            )
            ImportFile.objects.create(job=job, content=stored, compression=compression)
    except IntegrityError:
        found = pending.first()
        if found is None:
            raise
        return found, False
    return job, True


def runs_in_request(job: ImportJob) -> bool:
    """Small files are checked and written in the request (see the module's decisions)."""
    return job.rows_total <= IMMEDIATE_ROWS


def _content(job: ImportJob) -> IO[bytes]:
    """The job's file, readable and seekable, decompressed as it is read."""
    try:
        record = ImportFile.objects.get(job=job)
    except ImportFile.DoesNotExist:
        raise DomainError(_("the file is no longer kept: upload it again")) from None
    content = record.content
    del record  # the stored bytes are read from `content`; one copy is enough
    return file_unpack(content)


def _forget_file(job_id: int) -> None:
    """The job has ended and will not read its file again: delete it."""
    ImportFile.objects.filter(job_id=job_id).delete()


def _fail(job_id: int, source: str, message: str) -> None:
    _move(job_id, source, State.FAILED, message=message[:2000], finished_at=timezone.now())


def import_job_check(*, job_id: int) -> ImportJob:
    """Check the job's file (the worker's half of an upload): `checked` with a preview, or
    `rejected` with every error. A job that is no longer queued is left as it is."""
    now = timezone.now()
    claimed = _move(
        job_id,
        State.QUEUED,
        State.CHECKING,
        step=READING,
        rows_done=0,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        message="",
    )
    job = ImportJob.objects.select_related("estate", "uploaded_by").get(pk=job_id)
    if not claimed:
        return job
    recorder = _Recorder(job_id)
    try:
        report = import_check(
            actor=job.uploaded_by,
            estate=job.estate,
            kind=job.kind,
            file=_content(job),
            filename=job.filename,
            update=job.update,
            create_buildings=job.create_buildings,
            progress=recorder,
        )
    except DomainError as exc:
        _fail(job_id, State.CHECKING, exc.message)
    except Exception as exc:
        log.exception("import job %s: the check failed", job_id)
        _fail(job_id, State.CHECKING, f"unexpected error: {exc}")
        raise
    else:
        _move(
            job_id,
            State.CHECKING,
            State.CHECKED if report.ok else State.REJECTED,
            step="",
            finished_at=timezone.now(),
            **_result(report),
        )
        if not report.ok:
            _forget_file(job_id)
    finally:
        recorder.close()
    job.refresh_from_db()
    return job


def import_job_confirm(*, actor, job: ImportJob) -> ImportJob:
    """Staff confirm a checked file: it waits for the worker to write it."""
    authorise(actor, job.estate)
    if not _move(
        job.pk,
        State.CHECKED,
        State.CONFIRMED,
        confirmed_by=actor,
        step="",
        rows_done=0,
        heartbeat_at=timezone.now(),
    ):
        raise DomainError(_("this import is no longer waiting for confirmation"))
    job.refresh_from_db()
    return job


def import_job_apply(*, job_id: int) -> ImportJob:
    """Check the file again (the registry may have changed since the preview) and write it
    in one transaction that also marks the job `done`. Errors found now: `rejected`; a
    refusal or a crash: `failed`, nothing written."""
    now = timezone.now()
    claimed = _move(
        job_id,
        State.CONFIRMED,
        State.APPLYING,
        step=READING,
        rows_done=0,
        started_at=now,
        heartbeat_at=now,
    )
    job = ImportJob.objects.select_related("estate", "confirmed_by").get(pk=job_id)
    if not claimed:
        return job
    if job.confirmed_by is None:
        _fail(job_id, State.APPLYING, "the account that confirmed the import no longer exists")
        job.refresh_from_db()
        return job

    def mark_done(report: ImportReport) -> None:
        # inside the import's transaction: the rows and `done` commit together, or neither
        if not _move(
            job_id,
            State.APPLYING,
            State.DONE,
            step="",
            finished_at=timezone.now(),
            **_result(report),
        ):
            raise DomainError(_("the import was stopped while it was writing; nothing was written"))
        _forget_file(job_id)

    recorder = _Recorder(job_id)
    try:
        import_apply(
            actor=job.confirmed_by,
            estate=job.estate,
            kind=job.kind,
            file=_content(job),
            filename=job.filename,
            update=job.update,
            create_buildings=job.create_buildings,
            progress=recorder,
            before_commit=mark_done,
        )
    except ImportRejected as exc:
        _move(
            job_id,
            State.APPLYING,
            State.REJECTED,
            step="",
            finished_at=timezone.now(),
            **_result(exc.report),
        )
        _forget_file(job_id)
    except DomainError as exc:
        _fail(job_id, State.APPLYING, exc.message)
    except Exception as exc:
        log.exception("import job %s: the import failed", job_id)
        _fail(job_id, State.APPLYING, f"unexpected error, nothing was written: {exc}")
        raise
    finally:
        recorder.close()
    job.refresh_from_db()
    return job


def import_job_discard(*, actor, job: ImportJob) -> ImportJob:
    """Staff drop a job that is waiting (to be checked, or for confirmation)."""
    authorise(actor, job.estate)
    now = timezone.now()
    if not _move(job.pk, (State.QUEUED, State.CHECKED), State.CANCELLED, finished_at=now):
        raise DomainError(_("only an import waiting to be checked or confirmed can be discarded"))
    _forget_file(job.pk)
    job.refresh_from_db()
    return job


def import_job_retry(*, actor, job: ImportJob) -> ImportJob:
    """A failed job is checked again from the start (nothing of it was written)."""
    authorise(actor, job.estate)
    if not ImportFile.objects.filter(job=job).exists():
        raise DomainError(_("the file is no longer kept: upload it again"))
    try:
        with transaction.atomic():
            moved = _move(
                job.pk,
                State.FAILED,
                State.QUEUED,
                step="",
                rows_done=0,
                message="",
                finished_at=None,
                heartbeat_at=timezone.now(),
                confirmed_by=None,
            )
    except IntegrityError:
        raise DomainError(
            _("the same file has been uploaded again since: see the newer import")
        ) from None
    if not moved:
        raise DomainError(_("only a failed import can be run again"))
    job.refresh_from_db()
    return job


def import_jobs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The hourly tidy-up: running jobs silent for STALLED_AFTER failed (their worker is
    gone; nothing was written), checked jobs never confirmed within KEEP_FILES discarded
    (their files deleted), and the files of jobs that ended more than KEEP_FILES ago (failed
    ones, kept to be run again; any other left by an older version) deleted."""
    now = now or timezone.now()
    stalled = 0
    for source in ImportJob.RUNNING:
        stalled += ImportJob.objects.filter(
            state=source, heartbeat_at__lt=now - STALLED_AFTER
        ).update(
            state=State.FAILED,
            message="the background worker stopped; nothing was written, run it again",
            finished_at=now,
        )
    expiring = ImportJob.objects.filter(state=State.CHECKED, finished_at__lt=now - KEEP_FILES)
    expired_ids = list(expiring.values_list("pk", flat=True))
    expired = ImportJob.objects.filter(pk__in=expired_ids, state=State.CHECKED).update(
        state=State.CANCELLED, finished_at=now
    )
    ended = [s for s in State.values if s not in ImportJob.PENDING]
    files, _by_model = ImportFile.objects.filter(
        Q(job_id__in=expired_ids)
        | (Q(job__state__in=ended) & Q(job__finished_at__lt=now - KEEP_FILES))
    ).delete()
    return {"stalled": stalled, "expired": expired, "files_deleted": files}


# --- reads ---------------------------------------------------------------------------------


def import_jobs_for(user, *, limit: int = 20) -> list[ImportJob]:
    """The recent import jobs of the user's estates, newest first."""
    jobs = scope(ImportJob.objects.select_related("estate", "uploaded_by"), user)
    return list(jobs.defer("errors", "report")[:limit])


def import_job_get(user, pk: int) -> ImportJob:
    """One job of the user's estates, or 404 (another estate's job is not there)."""
    return get_scoped(
        ImportJob.objects.select_related("estate", "uploaded_by", "confirmed_by"), user, pk=pk
    )
