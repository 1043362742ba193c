"""Workload "import": a company loads its whole registry from one sheet.

Generates N units (default 100,000) with their owners as an .xlsx and a GBK .csv, imports each
into its own fresh estate through `import_apply` (the service behind `wuye import units` and
the import page), and reports the time of each import (reading, validation and the write):
wall-clock `seconds` (of the xlsx import) and the process's CPU seconds, which stay
meaningful on a shared, busy machine.

    python -m bench import [--units N] [--database-url URL] [--no-owners]"""

import io
import time
from datetime import date, timedelta
from pathlib import Path

DEFAULT_UNITS = 100_000
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


def add_arguments(parser) -> None:
    parser.add_argument("--no-owners", action="store_true", help="units only, no owner columns")


def rows(n: int, owners: bool):
    """Deterministic rows: 20 entrances of 2 units per floor in 33-floor buildings; ID
    numbers with their check digit (the import checks it)."""
    from stdnum.cn import ric

    types = ["住宅"] * 17 + ["商铺", "车位", "储藏室"]
    states = ["入住"] * 7 + ["空置", "空置", "装修"]
    for i in range(n):
        building, rest = divmod(i, 33 * 4 * 2)
        entrance, rest = divmod(rest, 33 * 2)
        floor, room = divmod(rest, 2)
        number = f"{building + 1}-{entrance + 1}-{floor + 1}{room + 1:02d}"
        handover = date(2020, 1, 1) + timedelta(days=i % 1500)
        row = [
            str(building + 1),
            str(entrance + 1),
            number,
            floor + 1,
            f"{60 + (i * 37) % 9000 / 100:.2f}",
            types[i % 20],
            handover,
            handover + timedelta(days=30),
            states[i % 10],
        ]
        if owners:
            name = SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + GIVEN[(i // 400) % 20]
            first17 = f"44030119800101{i % 1000:03d}"
            row += [name, f"139{i:08d}", first17 + ric.calc_check_digit(first17 + "0")]
        yield row


def write_xlsx(path: Path, n: int, owners: bool) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("房屋")
    sheet.append(HEADER if owners else HEADER[:9])
    for row in rows(n, owners):
        sheet.append(row)
    book.save(path)


def write_csv(path: Path, n: int, owners: bool) -> None:
    import csv

    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER if owners else HEADER[:9])
        for row in rows(n, owners):
            writer.writerow([v.isoformat() if isinstance(v, date) else v for v in row])


def _import(code: str, path: Path) -> tuple[float, dict]:
    from wuye.registry.imports import import_apply
    from wuye.registry.models import Estate

    estate = Estate.objects.create(code=code, name=f"bench {code}")
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as handle:
        report = import_apply(
            actor=None,
            estate=estate,
            kind="units",
            file=io.BytesIO(handle.read()),
            filename=path.name,
            create_buildings=True,
        )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not report.ok:
        raise SystemExit("\n".join(report.error_lines()[:20]))
    return seconds, cpu, report.counts


def run(args) -> dict:
    from wuye.registry.models import Unit

    n = args.units or DEFAULT_UNITS
    owners = not args.no_owners
    folder = Path(__file__).resolve().parent.parent / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    xlsx, csv_path = folder / f"import-{n}.xlsx", folder / f"import-{n}.csv"
    started = time.perf_counter()
    write_xlsx(xlsx, n, owners)
    write_csv(csv_path, n, owners)
    generate_seconds = time.perf_counter() - started
    xlsx_seconds, xlsx_cpu, counts = _import("BX", xlsx)
    csv_seconds, csv_cpu, _ = _import("BC", csv_path)
    assert Unit.objects.filter(estate__code="BX").count() == n
    assert Unit.objects.filter(estate__code="BC").count() == n
    return {
        "workload": "import",
        "n": n,
        "seconds": round(xlsx_seconds, 3),
        "rate": round(n / xlsx_seconds, 1),
        "xlsx_seconds": round(xlsx_seconds, 3),
        "xlsx_cpu_seconds": round(xlsx_cpu, 3),
        "csv_seconds": round(csv_seconds, 3),
        "csv_cpu_seconds": round(csv_cpu, 3),
        "csv_rate": round(n / csv_seconds, 1),
        "generate_seconds": round(generate_seconds, 3),
        "xlsx_mb": round(xlsx.stat().st_size / 2**20, 1),
        "csv_mb": round(csv_path.stat().st_size / 2**20, 1),
        "with_owners": owners,
        **counts,
    }
