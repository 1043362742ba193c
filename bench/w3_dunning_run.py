"""W3 dunning run: N parties (default 1,000,000), 20% of them overdue 0-120 days; run the
dunning engine for one day, then again the same day (DESIGN.md §6).

    python -m bench W3 --parties 1000000 --database-url postgres://postgres@127.0.0.1:5432/wuye_w3

Setup (not timed): W1's estate of N units with one owner each (set-wise), half of them
reachable by SMS, the rest by letter; one open property-fee charge for every fifth party,
due 0-120 days before the run date, and for one in ten of those an older second charge; a
prepayment covering the debt of one overdue party in fifty; the default policy (DESIGN.md §5).
Timed: the whole `dunning_run` -- figures, cases, charges linked, messages written to the
outbox, tasks. Reported: seconds, parties/s over the N parties, actions by stage, cases
opened, messages and tasks written, and `rerun_emitted` of a second run the same day (0).
Numbers and where the time goes: wuye/collection/README.md, "W3"."""

import os
import time
from datetime import date, timedelta

from bench.w1_bill_run import _build, _series

AS_OF = date(2026, 12, 31)


def add_arguments(parser) -> None:
    parser.add_argument("--parties", type=int, default=None)


def _charges(estate, item, n: int) -> None:
    """Open charges for every fifth party, due 0-120 days before AS_OF; prepayments."""
    from django.db import connection, transaction

    pg = connection.vendor == "postgresql"
    series = _series(n)
    due = (
        "CAST(%(as_of)s AS DATE) - (g %% 121)"
        if pg
        else "DATE(%(as_of)s, '-' || (g %% 121) || ' days')"
    )
    older = (
        "CAST(%(as_of)s AS DATE) - (g %% 121) - 31"
        if pg
        else "DATE(%(as_of)s, '-' || ((g %% 121) + 31) || ' days')"
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT MIN(id) FROM registry_unit WHERE estate_id = %s", [estate.pk])
        umin = cur.fetchone()[0]
        cur.execute("SELECT MIN(id) FROM registry_party WHERE estate_id = %s", [estate.pk])
        pmin = cur.fetchone()[0]
        params = {"estate": estate.pk, "item": item.pk, "umin": umin, "pmin": pmin, "as_of": AS_OF}
        for part, due_sql, where in (
            (1, due, "g %% 5 = 0"),
            (2, older, "g %% 50 = 0"),
        ):
            cur.execute(
                f"""INSERT INTO billing_charge (estate_id, unit_id, party_id, fee_item_id, kind,
                    period, period_start, period_end, part, amount, outstanding, bill_date,
                    due_date, status, description, created_at)
                SELECT %(estate)s, %(umin)s + g - 1, %(pmin)s + g - 1, %(item)s, 'regular',
                    '2026-1{part}', %(as_of)s, %(as_of)s, {part}, 250.60, 250.60, %(as_of)s,
                    {due_sql}, 'open', '', CURRENT_TIMESTAMP
                FROM ({series}) s WHERE {where}""",  # noqa: S608 - generated, no input
                params,
            )
        cur.execute(
            f"""INSERT INTO billing_prepaymentmovement (estate_id, party_id, kind, amount, date,
                memo, source_type, source_id, idempotency_key, created_at)
            SELECT %(estate)s, %(pmin)s + g - 1, 'topup', 600.00, %(as_of)s, '', '', '',
                {"'w3-' || CAST(g AS TEXT)"}, CURRENT_TIMESTAMP
            FROM ({series}) s WHERE g %% 250 = 0""",  # noqa: S608
            params,
        )
        # half reachable by SMS (with consent), the others by letter at the estate's address
        cur.execute(
            """UPDATE registry_party SET mobile = '138' || SUBSTR('0000000' || CAST(id AS TEXT),
                -8), consents = '{"sms": true}' WHERE estate_id = %s AND id %% 2 = 0""",
            [estate.pk],
        )
        cur.execute(
            "UPDATE registry_estate SET address = '深圳市南山区基准路1号',"
            " hotline = '0755-86000000' WHERE id = %s",
            [estate.pk],
        )
        if pg:
            cur.execute("ANALYZE billing_charge, billing_prepaymentmovement, registry_party")


def run(args) -> dict:
    from wuye.collection.models import ArrearsCase
    from wuye.collection.services.policies import policy_default
    from wuye.collection.services.run import dunning_run

    n = args.parties or args.units or 1_000_000
    t0 = time.perf_counter()
    estate, item = _build(n)
    _charges(estate, item, n)
    policy_default(estate=estate)
    setup = time.perf_counter() - t0

    load_before = os.getloadavg()[0]
    t1 = time.perf_counter()
    first = dunning_run(as_of=AS_OF, estate_id=estate.pk)
    seconds = time.perf_counter() - t1
    load_after = os.getloadavg()[0]

    t2 = time.perf_counter()
    again = dunning_run(as_of=AS_OF, estate_id=estate.pk)
    rerun_seconds = time.perf_counter() - t2

    t3 = time.perf_counter()
    next_day = dunning_run(as_of=AS_OF + timedelta(days=1), estate_id=estate.pk)
    next_day_seconds = time.perf_counter() - t3
    counts = first.counts
    return {
        "workload": "W3",
        "n": n,
        "seconds": round(seconds, 3),
        "rate": round(n / seconds, 1) if seconds else None,
        "by_stage": counts.get("by_stage", {}),
        "emitted": counts.get("emitted", 0),
        "cases_opened": counts.get("opened", 0),
        "covered_by_prepayment": counts.get("covered", 0),
        "messages": counts.get("messages", 0),
        "tasks": counts.get("tasks", 0),
        "open_cases": ArrearsCase.objects.filter(estate=estate).exclude(status="closed").count(),
        "timings": counts.get("timings"),
        "rerun_timings": again.counts.get("timings"),
        "rerun_emitted": again.counts.get("emitted", 0),
        "rerun_seconds": round(rerun_seconds, 3),
        "next_day_emitted": next_day.counts.get("emitted", 0),
        "next_day_seconds": round(next_day_seconds, 3),
        "setup_seconds": round(setup, 3),
        "load_1min": [round(load_before, 2), round(load_after, 2)],
    }
