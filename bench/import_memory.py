"""Workload "import-memory": how much memory checking (and writing) a big unit sheet takes.

Generates a unit sheet of about `--mb` megabytes (default 50) as Chinese offices keep it:
楼栋, 单元 and 房号 in separate columns (房号 `301` repeated in every building and entrance),
with the owner, mobile and ID number of each unit. The file is uploaded as an import job
(`import_job_upload`, as the page does), then checked by a child process exactly as the
background worker checks it (`import_job_check`: the file read back from the database,
every row validated) and, with `--apply`, confirmed and written by another child
(`import_job_apply`). Each child's peak RSS is read from the kernel (`wait4`), so the
generation and the upload in this process do not count.

    python -m bench import-memory [--mb 50] [--format xlsx|csv] [--apply]

Target (DESIGN.md §6): under 1 GiB. Measured (47.4 MB .xlsx, 770,000 units with owners,
SQLite, 2 shared cores at load 12-15, so seconds mean little):
    before (42a9d2c): check peak RSS 416 MB, but only because the sheet was rejected with
        769,934 false "listed twice" errors (房号 keyed alone); nothing was planned
    now: check 560.9 MB, 0 errors, state checked (2,237 s wall at load ~13)
    write (--apply): 1,333 MB peak, over the target: the write still plans every row in
        memory before its one transaction (that run then hit the payment-reference clash
        across batches fixed in fce09a3)."""

import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HEADER = [
    "楼栋",
    "单元",
    "房号",
    "楼层",
    "建筑面积",
    "类型",
    "交付日期",
    "起缴日期",
    "状态",
    "业主姓名",
    "手机",
    "证件号",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
# about how many rows make a megabyte (measured on this generator)
ROWS_PER_MB = {"xlsx": 15_400, "csv": 11_300}


def add_arguments(parser) -> None:
    parser.add_argument("--mb", type=float, default=50.0, help="size of the sheet in MB")
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--apply", action="store_true", help="also confirm and write it")


def _id_number(first17: str) -> str:
    from stdnum.cn import ric

    return first17 + ric.calc_check_digit(first17 + "0")


def rows(n: int):
    """20 entrances of 2 units per floor in 33-floor buildings; 房号 is the room alone."""
    types = ["住宅"] * 17 + ["商铺", "车位", "储藏室"]
    states = ["入住"] * 7 + ["空置", "空置", "装修"]
    for i in range(n):
        building, rest = divmod(i, 33 * 4 * 2)
        entrance, rest = divmod(rest, 33 * 2)
        floor, room = divmod(rest, 2)
        handover = date(2020, 1, 1) + timedelta(days=i % 1500)
        born = date(1950, 1, 1) + timedelta(days=(i * 7) % 18000)
        yield [
            f"{building + 1}栋",
            f"{entrance + 1}单元",
            f"{floor + 1}{room + 1:02d}",
            floor + 1,
            f"{60 + (i * 37) % 9000 / 100:.2f}",
            types[i % 20],
            handover,
            handover + timedelta(days=30),
            states[i % 10],
            SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + GIVEN[(i // 400) % 20],
            f"139{i:08d}",
            _id_number(f"440301{born:%Y%m%d}{i % 1000:03d}"),
        ]


def write_sheet(path: Path, n: int, fmt: str) -> None:
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("房屋")
        sheet.append(HEADER)
        for row in rows(n):
            sheet.append(row)
        book.save(path)
        return
    import csv

    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in rows(n):
            writer.writerow([v.isoformat() if isinstance(v, date) else v for v in row])


CHILD = (
    "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'wuye.settings'); "
    "django.setup(); from bench.import_memory import child; child(sys.argv[1], int(sys.argv[2]))"
)


def child(step: str, job_id: int) -> None:
    """Runs in a fresh process on the parent's database: one step, as the worker runs it."""
    from wuye.registry.imports import jobs

    started = time.perf_counter()
    if step == "check":
        job = jobs.import_job_check(job_id=job_id)
    else:
        job = jobs.import_job_apply(job_id=job_id)
    print(
        json.dumps(
            {
                "state": job.state,
                "rows": job.rows_total,
                "errors_total": job.errors_total,
                "first_errors": job.errors[:3],
                "message": job.message,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
    )


def _run_child(step: str, job_id: int) -> dict:
    command = [sys.executable, "-c", CHILD, step, str(job_id)]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"the {step} child failed ({proc.returncode}): {out[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def run(args) -> dict:
    from wuye.registry.imports import jobs
    from wuye.registry.models import Estate, ImportJob

    fmt = args.format
    n = int(args.units or args.mb * ROWS_PER_MB[fmt])
    folder = Path(__file__).resolve().parent.parent / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"import-memory-{n}.{fmt}"
    started = time.perf_counter()
    if not path.exists():
        write_sheet(path, n, fmt)
    generate_seconds = time.perf_counter() - started
    estate = Estate.objects.create(code="BM", name="bench memory")
    job, _new = _upload(jobs, estate, path)
    # the worker's check, in a process of its own
    check = _run_child("check", job.pk)
    result = {
        "workload": "import-memory",
        "n": n,
        "format": fmt,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "generate_seconds": round(generate_seconds, 1),
        "seconds": check["seconds"],
        "rate": round(n / check["seconds"], 1) if check["seconds"] else 0,
        "check_state": check["state"],
        "check_errors": check["errors_total"],
        "check_first_errors": check["first_errors"],
        "check_peak_rss_mb": check["peak_rss_mb"],
    }
    if args.apply and check["state"] == ImportJob.State.CHECKED:
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.CONFIRMED, confirmed_by=_operator()
        )
        applied = _run_child("apply", job.pk)
        result.update(
            apply_state=applied["state"],
            apply_seconds=applied["seconds"],
            apply_peak_rss_mb=applied["peak_rss_mb"],
        )
    return result


def _upload(jobs, estate, path: Path):
    import inspect

    parameters = inspect.signature(jobs.import_job_upload).parameters
    with path.open("rb") as handle:
        if "file" in parameters:
            return jobs.import_job_upload(
                actor=None,
                estate=estate,
                kind="units",
                file=handle,
                filename=path.name,
                create_buildings=True,
            )
        return jobs.import_job_upload(
            actor=None,
            estate=estate,
            kind="units",
            content=handle.read(),
            filename=path.name,
            create_buildings=True,
        )


def _operator():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    if not user.is_superuser:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    return user
