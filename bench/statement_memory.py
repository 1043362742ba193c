"""Workload "statement-memory": how much memory importing a big bank statement CSV takes, and
how much of it the database keeps (issue 12 §8: a 99 MB CSV grew the worker by 892 MB and
was stored raw).

Generates a bank export of about `--mb` megabytes (default 60) in GBK, as Chinese online
banking gives it: 20,000 lines (the most a statement may have) whose memo columns are long
and alike, as a month of transfers is. Two children, each on the parent's database, each
reporting its RSS before the step and its peak (VmHWM), so the generation does not count:
- "upload": what the page and the API do with the upload (`transfer_statement_import`
  given the file spooled to disk, as Django hands over any upload above 10 MB): hash it,
  read every line, store it; the lines are left to the worker (more than INLINE_LINES);
- "worker": the worker reading the stored file back (`read_statement` of what is stored),
  the lines it would post; posting them (a line at a time, alike before and after) is left
  out unless `--post`.

    python -m bench statement-memory [--mb 60] [--post]

The code before compression refused files above 20 MB; to measure it on the same file the
children lift `MAX_FILE_BYTES` to the file's size (the workload the issue measured).

Measured (60.0 MB GBK file, 20,000 lines; 2 shared cores at load ~10, so seconds mean
little; RSS before the step ~100 MB in every child):
    PostgreSQL, before (main before this change, limit lifted): upload peak 660.7 MB,
        worker 459.4 MB, stored 59.98 MB raw
    PostgreSQL, after: upload 125.4 MB, worker 122.7 MB, stored 0.59 MB (gzip)
    SQLite, before: upload 303.2 MB, worker 220.4 MB, stored 59.98 MB; after: 123.8 MB,
        123.4 MB, 0.59 MB
The upload takes longer (SQLite 4.8 -> 10.2 s, PostgreSQL 9.6 -> 8.2 s at that load):
compressing is the price of the memory."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HEADER = "交易日期,交易流水号,摘要,贷方金额,借方金额,对方户名,对方账号,附言\r\n"
MEMO = "代收 华苑小区 物业服务费 水电公摊 停车管理费 三月 "
LINES = 20_000


def add_arguments(parser) -> None:
    parser.add_argument("--mb", type=float, default=60.0, help="size of the file in MB")
    parser.add_argument("--post", action="store_true", help="the worker posts the lines too")


def write_csv(path: Path, mb: float) -> None:
    """`LINES` lines, each padded by its 附言 to make the file about `mb` MB."""
    base = len(HEADER.encode("gbk"))
    width = int((mb * 2**20 - base) / LINES)
    ratio = len(MEMO.encode("gbk")) / len(MEMO)  # bytes per character
    with path.open("wb") as handle:
        handle.write("账号,6222020200112233001\r\n".encode("gbk"))  # above the table
        handle.write(HEADER.encode("gbk"))
        for n in range(1, LINES + 1):
            day = f"2026-03-{1 + n % 28:02d}"
            line = f"{day},B{n:09d},转账 1-{n % 30}-{n % 400},{n % 900 + 100}.00,"
            line += f",业主{n % 500},6217{n:012d},"
            chars = max(0, int((width - len(line.encode("gbk")) - 2) / ratio))
            pad = (MEMO * (chars // len(MEMO) + 1))[:chars]
            handle.write((line + pad + "\r\n").encode("gbk"))


CHILD = (
    "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'wuye.settings'); "
    "django.setup(); from bench.statement_memory import child; child(*sys.argv[1:])"
)


def child(step: str, path: str, estate_id: str, user_id: str, post: str = "") -> None:
    """Runs in a fresh process on the parent's database: one step, as the web process or
    the worker runs it."""
    import inspect

    from django.contrib.auth import get_user_model

    from wuye.online.models import TransferStatement
    from wuye.online.services import bank
    from wuye.online.statements import read_statement
    from wuye.registry.models import Estate

    rss_before = _status_mb("VmRSS")
    size = Path(path).stat().st_size
    bank.MAX_FILE_BYTES = max(bank.MAX_FILE_BYTES, size + 1)
    started = time.perf_counter()
    if step == "upload":
        actor = get_user_model().objects.get(pk=user_id)
        estate = Estate.objects.get(pk=estate_id)
        with open(path, "rb") as handle:  # an upload above 10 MB is a file on disk
            bank.statement_size_check(size)
            if "file" in inspect.signature(bank.transfer_statement_import).parameters:
                kwargs = {"file": handle}
            else:
                kwargs = {"content": handle.read()}
            statement, _new = bank.transfer_statement_import(
                actor=actor, estate=estate, file_name=Path(path).name, **kwargs
            )
        out = {"statement": statement.pk, "lines_total": statement.lines_total}
    else:
        statement = TransferStatement.objects.get(estate_id=estate_id)
        if post:
            bank.transfer_statement_finish(statement_id=statement.pk)
            out = {"lines": statement.lines.count()}
        else:
            try:
                from wuye.core.stored_files import file_unpack

                stored = file_unpack(statement.content)
            except ImportError:  # before compression: the raw bytes
                stored = bytes(statement.content)
            out = {"lines": len(read_statement(statement.file_name, stored))}
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["rss_before_mb"] = rss_before
    out["peak_rss_mb"] = _status_mb("VmHWM")
    print(json.dumps(out))


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (the peak) of this process, from the kernel. Read here, not by
    the parent with wait4: a forked child's ru_maxrss starts at the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _run_child(*args: str) -> dict:
    command = [sys.executable, "-c", CHILD, *args]
    root = Path(__file__).resolve().parent.parent
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(root), *sys.path])}
    proc = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True, env=env)
    out = proc.stdout.read()
    _pid, status, _usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the {args[0]} child failed: {out[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def run(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from wuye.online.models import TransferStatement
    from wuye.registry.models import Estate

    folder = Path(__file__).resolve().parent.parent / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"statement-{args.mb:g}mb.csv"
    started = time.perf_counter()
    if not path.exists():
        write_csv(path, args.mb)
    generate_seconds = time.perf_counter() - started
    estate = Estate.objects.create(code="BS", name="bench statement")
    user = get_user_model().objects.create_user("bench-statement", is_superuser=True)
    upload = _run_child("upload", str(path), str(estate.pk), str(user.pk))
    worker = _run_child("worker", str(path), str(estate.pk), str(user.pk), "1" if args.post else "")
    statement = TransferStatement.objects.get(pk=upload["statement"])
    stored = len(bytes(statement.content))
    return {
        "workload": "statement-memory",
        "database": connection.vendor,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "lines": upload["lines_total"],
        "generate_seconds": round(generate_seconds, 1),
        "upload_seconds": upload["seconds"],
        "upload_rss_before_mb": upload["rss_before_mb"],
        "upload_peak_rss_mb": upload["peak_rss_mb"],
        "worker_lines": worker["lines"],
        "worker_posted": bool(args.post),
        "worker_seconds": worker["seconds"],
        "worker_rss_before_mb": worker["rss_before_mb"],
        "worker_peak_rss_mb": worker["peak_rss_mb"],
        "stored_mb": round(stored / 2**20, 2),
        "stored_is_gzip": bytes(statement.content[:2]) == b"\x1f\x8b",
    }
