"""python -m bench WORKLOAD [--units N] [--database-url URL] [...]

Each workload is a module `bench/<name>.py` with `add_arguments(parser)` and `run(args) -> dict`.
The database is prepared before `run` (default: a fresh SQLite file under var/bench/); the
result is printed as one JSON object on the last line (DESIGN.md §6)."""

import argparse
import importlib
import json
import os
import resource
import sys
import time
from pathlib import Path

WORKLOADS = {
    "W1": "bench.w1_bill_run",
    "W2": "bench.w2_notify",
    "W3": "bench.w3_dunning_run",
    "W5": "bench.w5_dashboard",
    "demo": "bench.demo_seed",
    "import": "bench.import_units",
    "import-memory": "bench.import_memory",
    "statement-memory": "bench.statement_memory",
}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def prepare_database(url: str | None, keep: bool = False) -> str:
    if not url:
        folder = Path(__file__).resolve().parent.parent / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bench-{os.getpid()}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    os.environ.setdefault("WUYE_DEMO", "1")  # the demo's derived key for ID numbers
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql" and not keep:
        # a clean schema each time: the workload builds its own data
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0, interactive=False)
    return url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--units", type=int, default=None)
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="PostgreSQL: keep the data of an earlier run (a workload that supports it reuses"
        " its setup and times again)",
    )
    known, rest = parser.parse_known_args(argv)
    module = importlib.import_module(WORKLOADS[known.workload])
    sub = argparse.ArgumentParser(prog=f"python -m bench {known.workload}")
    module.add_arguments(sub)
    args = sub.parse_args(rest, namespace=known)
    wall, cpu = time.perf_counter(), time.process_time()
    url = prepare_database(known.database_url, keep=known.keep_database)
    # `migrate` on an empty database (with Django's start-up): what `make demo` runs first
    args.setup_seconds = round(time.perf_counter() - wall, 2)
    args.setup_cpu_seconds = round(time.process_time() - cpu, 2)
    started = time.perf_counter()
    result = module.run(args)
    result.setdefault("setup_seconds", args.setup_seconds)
    result.setdefault("setup_cpu_seconds", args.setup_cpu_seconds)
    result.setdefault("workload", known.workload)
    result.setdefault("seconds", round(time.perf_counter() - started, 3))
    result["peak_rss_mb"] = peak_rss_mb()
    result["database"] = url.split(":", 1)[0]
    print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
