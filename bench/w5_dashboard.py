"""W5 dashboard: the collection dashboard of a company over 12 months x N units, right after
a batch of payments (DESIGN.md §6).

    python -m bench W5 --units 1000000 --database-url postgres://postgres@127.0.0.1:5432/wuye_w5

Setup (not timed), set-wise in SQL: `--estates` estates of N/estates units in buildings of
`--per-building` units, one owner each, a 2.80/m² fee, twelve months of charges (what the
monthly bill runs write, without their vouchers), about 85% of them paid and the rest in
arrears (payments, allocations, charge balances), then the report summaries rebuilt
(`summaries.rebuild`, set-wise on PostgreSQL). The bench measures the reports, not the runs
or the window.

Timed, `--rounds` times: a batch of `--batch` payments through `payments_take` (the set-wise
online/bank path, which writes the summaries' deltas in its transaction: `post_p50_ms`), then
one page view of the dashboard of the whole company (a supervisor of every estate, through
Django's test client: URL routing, the view, the figures, the SVG charts, the template), with
the batch's deltas not yet folded: `p50_ms`/`p95_ms` are "page view right after a batch".
Reported besides: the same page once the deltas are folded (`quiet_p50_ms`), the fold of one
more batch's deltas alone (`fold_p50_ms`, the minute job's work), and whether the figures
still equal the books for the month (`month_rate_checked`)."""

import statistics
import time
from datetime import date
from decimal import Decimal

PERIODS = [f"2026-{m:02d}" for m in range(1, 13)]
AS_OF = date(2026, 12, 20)


def add_arguments(parser) -> None:
    parser.add_argument("--estates", type=int, default=10)
    parser.add_argument("--per-building", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument(
        "--cells-times",
        type=int,
        default=1,
        help="with --keep-database on PostgreSQL: copy the summary rows of the buildings"
        " N-1 times (fake buildings of the same estates, estate sums multiplied), so the page"
        " reads the summaries of N times the units while the books stay as they are; the"
        " result says `cells_times` and the books check is skipped",
    )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _build(n: int, estates: int, per_building: int):
    from django.db import connection, transaction

    from bench.w1_bill_run import _series
    from wuye.fees.models import FeeItem, FeeStandard
    from wuye.ledger.services import accounts_sync_chart
    from wuye.registry.models import Building, Estate

    per_estate = max(n // estates, 1)
    out = []
    with transaction.atomic():
        accounts_sync_chart()
    for e in range(estates):
        with transaction.atomic():
            estate = Estate.objects.create(code=f"W5{e:02d}", name=f"W5 小区{e + 1}")
            buildings = Building.objects.bulk_create(
                [
                    Building(estate=estate, code=str(b + 1), name=f"{b + 1}栋")
                    for b in range(max(per_estate // per_building, 1))
                ]
            )
            first_b, nb = buildings[0].pk, len(buildings)
            series = _series(per_estate)
            with connection.cursor() as cur:
                cur.execute(
                    f"""INSERT INTO registry_unit (estate_id, building_id, number, entrance,
                        floor, gross_area, unit_type, handover_date, fee_start_date, occupancy,
                        is_active)
                    SELECT %s, %s + (g %% %s), 'U' || CAST(g AS TEXT), '', 1,
                        60 + (g %% 90), 'residential', %s, %s, 'occupied', TRUE
                    FROM ({series}) s""",  # noqa: S608
                    [estate.pk, first_b, nb, date(2020, 1, 1), date(2020, 1, 1)],
                )
                cur.execute(
                    f"""INSERT INTO registry_party (estate_id, name, kind, mobile, phone_alt,
                        phone_tails, email, id_number, mailing_address, wechat_openid,
                        preferred_channels, consents, payment_ref, created_at)
                    SELECT %s, '业主' || CAST(g AS TEXT), 'person', '', '', '', '', '', '',
                        '', '[]', '{{}}', %s || CAST(g AS TEXT), %s
                    FROM ({series}) s""",  # noqa: S608
                    [estate.pk, f"W5{e:02d}-", date(2020, 1, 1)],
                )
                cur.execute(
                    """INSERT INTO registry_unitparty (estate_id, unit_id, party_id, role,
                        start_date, end_date, is_payer)
                    SELECT u.estate_id, u.id, p.id, 'owner', %s, NULL, TRUE
                    FROM registry_unit u JOIN registry_party p
                      ON p.estate_id = u.estate_id AND p.name = '业主' || SUBSTR(u.number, 2)
                    WHERE u.estate_id = %s""",
                    [date(2020, 1, 1), estate.pk],
                )
            item = FeeItem.objects.create(
                estate=estate, code="PROPERTY", name="物业服务费", kind="property",
                basis="per_area_month", cycle="monthly", timing="advance", due_days=30,
            )  # fmt: skip
            FeeStandard.objects.create(
                estate=estate, fee_item=item, version=1, rate=Decimal("2.80"),
                effective_from=date(2020, 1, 1), status=FeeStandard.Status.PUBLISHED,
            )  # fmt: skip
        out.append(estate)
    return out


def _bill_and_pay(estates) -> None:
    """Twelve months of charges per estate (the rows a bill run writes), then ~85% of them
    paid set-wise: one payment per (party, period) dated in the period (or, for 1 in 10 of
    the older ones, two months later: recovered arrears)."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from wuye.fees.models import FeeItem

    months = []
    for period in PERIODS:
        y, m = int(period[:4]), int(period[5:7])
        start = date(y, m, 1)
        end = (date(y + m // 12, m % 12 + 1, 1)) - timedelta(days=1)
        months.append((period, start, end, start + timedelta(days=30)))
    values = " UNION ALL ".join(
        ["SELECT %s AS period, %s AS first, %s AS last, %s AS due"] * len(months)
    )
    for estate in estates:
        item = FeeItem.objects.get(estate=estate, code="PROPERTY")
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"""INSERT INTO billing_charge (estate_id, unit_id, party_id, fee_item_id, kind,
                    period, period_start, period_end, part, amount, outstanding, quantity,
                    rate, bill_date, due_date, status, run_id, description, created_at)
                SELECT u.estate_id, u.id, up.party_id, %s, 'regular', p.period, p.first,
                    p.last, 1, ROUND(u.gross_area * 2.80, 2), ROUND(u.gross_area * 2.80, 2),
                    u.gross_area, 2.80, p.first, p.due, 'open', NULL, '', %s
                FROM registry_unit u JOIN registry_unitparty up ON up.unit_id = u.id
                CROSS JOIN ({values}) p
                WHERE u.estate_id = %s""",  # noqa: S608
                [item.pk, timezone.now(), *[x for m in months for x in m], estate.pk],
            )
    pg = connection.vendor == "postgresql"
    month_of = "TO_DATE(c.period || '-10', 'YYYY-MM-DD')" if pg else "DATE(c.period || '-10')"
    later = f"({month_of} + INTERVAL '2 months')::date" if pg else f"DATE({month_of}, '+2 months')"
    unpaid = "c.id %% 100 < 15 AND c.period >= '2026-07'"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO payments_payment (estate_id, party_id, unit_id, shift_id, channel,
                source, external_ref, terminal, amount, allocated, prepaid, rounded_off,
                earmark_id, business_date, value_date, received_at, status, payer_name, note,
                idempotency_key, entry_id, corrects_id, created_by_id)
            SELECT c.estate_id, c.party_id, c.unit_id, NULL,
                CASE WHEN c.id %% 3 = 0 THEN 'wechat' WHEN c.id %% 3 = 1 THEN 'alipay'
                     ELSE 'transfer' END,
                'online', '', '', c.amount, c.amount, 0, 0, NULL, d.day, d.day,
                CURRENT_TIMESTAMP, 'posted', '', '', 'w5-' || CAST(c.id AS TEXT), NULL, NULL,
                NULL
            FROM billing_charge c CROSS JOIN LATERAL (SELECT
                CASE WHEN c.id %% 10 = 0 AND c.period < '2026-11' THEN {later}
                     ELSE {month_of} END AS day) d
            WHERE NOT ({unpaid})"""  # noqa: S608
            if pg
            else f"""INSERT INTO payments_payment (estate_id, party_id, unit_id, shift_id,
                channel, source, external_ref, terminal, amount, allocated, prepaid,
                rounded_off, earmark_id, business_date, value_date, received_at, status,
                payer_name, note, idempotency_key, entry_id, corrects_id, created_by_id)
            SELECT c.estate_id, c.party_id, c.unit_id, NULL,
                CASE WHEN c.id %% 3 = 0 THEN 'wechat' WHEN c.id %% 3 = 1 THEN 'alipay'
                     ELSE 'transfer' END,
                'online', '', '', c.amount, c.amount, 0, 0, NULL,
                CASE WHEN c.id %% 10 = 0 AND c.period < '2026-11' THEN {later}
                     ELSE {month_of} END,
                CASE WHEN c.id %% 10 = 0 AND c.period < '2026-11' THEN {later}
                     ELSE {month_of} END,
                CURRENT_TIMESTAMP, 'posted', '', '', 'w5-' || CAST(c.id AS TEXT), NULL, NULL,
                NULL
            FROM billing_charge c WHERE NOT ({unpaid})""",  # noqa: S608
            [],
        )
        cur.execute(
            f"""INSERT INTO payments_allocation (estate_id, payment_id, charge_id, amount,
                reverses_id, created_at)
            SELECT c.estate_id, p.id, c.id, c.amount, NULL, CURRENT_TIMESTAMP
            FROM billing_charge c JOIN payments_payment p
              ON p.idempotency_key = 'w5-' || CAST(c.id AS TEXT)
            WHERE NOT ({unpaid})""",  # noqa: S608
            [],
        )
        cur.execute(
            f"UPDATE billing_charge SET outstanding = 0, status = 'paid' "  # noqa: S608
            f"WHERE NOT ({unpaid.replace('c.', '')})",
            [],
        )
    if pg:
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")


def _multiply_cells(times: int) -> None:
    """The summaries of `times` x the units (see `--cells-times`): building, household and
    collection cells copied for fake buildings (ids offset by k x 10^8), estate and money
    cells multiplied."""
    from django.db import connection, transaction

    money = "billed = billed * %s, waived = waived * %s, received = received * %s, " \
        "from_balance = from_balance * %s"  # fmt: skip
    with transaction.atomic(), connection.cursor() as cur:
        for k in range(1, times):
            off = k * 100_000_000
            cur.execute(
                """INSERT INTO reports_buildingcell (estate_id, building_id, units_billed,
                    units_owing, owing)
                SELECT estate_id, building_id + %s, units_billed, units_owing, owing
                FROM reports_buildingcell WHERE building_id < 100000000""",
                [off],
            )
            cur.execute(
                """INSERT INTO reports_householdcell (estate_id, building_id, period,
                    units_billed, units_owing)
                SELECT estate_id, building_id + %s, period, units_billed, units_owing
                FROM reports_householdcell WHERE building_id < 100000000""",
                [off],
            )
            cur.execute(
                """INSERT INTO reports_collectioncell (estate_id, building_id, fee_item_id,
                    kind, period, due_date, month, billed, waived, received, from_balance)
                SELECT estate_id, building_id + %s, fee_item_id, kind, period, due_date,
                    month, billed, waived, received, from_balance
                FROM reports_collectioncell WHERE building_id < 100000000""",
                [off],
            )
        cur.execute(f"UPDATE reports_estatecell SET {money}", [times] * 4)  # noqa: S608
        cur.execute(
            "UPDATE reports_moneycell SET payments = payments * %s, received = received * %s,"
            " prepaid = prepaid * %s, refunded = refunded * %s",
            [times] * 4,
        )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")


def _batch(estates, size: int, round_no: int) -> int:
    """`size` payments of open charges, spread over the estates, through the set-wise path."""
    from wuye.billing.models import Charge
    from wuye.payments.services.payments import PaymentRequest, payments_take

    charges = list(
        Charge.objects.filter(status="open")
        .select_related("party")
        .order_by("id")[round_no * size : (round_no + 1) * size]
    )
    requests = [
        PaymentRequest(
            party=c.party,
            amount=c.outstanding,
            channel="wechat",
            charge_ids=(c.pk,),
            idempotency_key=f"w5-batch-{c.pk}",
            external_ref=f"W5B{c.pk}",
        )
        for c in charges
    ]
    payments_take(actor=None, requests=requests, today=AS_OF)
    return len(requests)


def run(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client

    from wuye.accounts.roles import sync_roles
    from wuye.registry.models import Estate, StaffProfile, Unit
    from wuye.reports import dashboard, selectors, summaries, views  # noqa: F401  (loaded now)

    n = args.units or 100_000
    t0 = time.perf_counter()
    estates = list(Estate.objects.filter(code__startswith="W5").order_by("code"))
    if estates and getattr(args, "keep_database", False):
        built = rebuilt = time.perf_counter()  # --keep-database: the earlier run's data
        n = Unit.objects.filter(estate__in=estates).count()
        if args.cells_times > 1:
            while summaries.refresh():
                pass
            _multiply_cells(args.cells_times)
            n *= args.cells_times
    else:
        estates = _build(n, args.estates, args.per_building)
        _bill_and_pay(estates)
        built = time.perf_counter()
        summaries.rebuild()
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("VACUUM ANALYZE")
        rebuilt = time.perf_counter()
    sync_roles()
    user, _new = get_user_model().objects.get_or_create(username="w5-supervisor")
    user.groups.add(Group.objects.get(name="supervisor"))
    profile, _new = StaffProfile.objects.get_or_create(user=user)
    profile.estates.set(estates)
    setup = time.perf_counter() - t0
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(user)
    url = f"/reports/?as_of={AS_OF.isoformat()}"
    assert client.get(url).status_code == 200  # warm: templates, first queries
    after, quiet, fold, posting, pending, paid = [], [], [], [], [], 0
    for r in range(args.rounds):
        t = time.perf_counter()
        paid += _batch(estates, args.batch, r)
        posting.append((time.perf_counter() - t) * 1000)
        pending.append(summaries.pending())
        t = time.perf_counter()
        response = client.get(url)
        after.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
        while summaries.refresh():
            pass
        t = time.perf_counter()
        client.get(url)
        quiet.append((time.perf_counter() - t) * 1000)
        # the fold alone, of one more batch's deltas (the minute job's work)
        paid += _batch(estates, args.batch, args.rounds + r)
        t = time.perf_counter()
        summaries.refresh()
        fold.append((time.perf_counter() - t) * 1000)
    # the figure still equals the books: December's collection rate from the charges
    from wuye.billing.models import Charge
    from wuye.core.money import MoneySum as Sum
    from wuye.payments.models import Allocation

    scope = selectors.Scope(estate_ids=tuple(e.pk for e in estates))
    rate = selectors.period_rate(scope, "2026-12", AS_OF)
    billed = Charge.objects.filter(period="2026-12").aggregate(s=Sum("amount"))["s"]
    received = Allocation.objects.filter(
        charge__period="2026-12", payment__business_date__lte=date(2026, 12, 31)
    ).aggregate(s=Sum("amount"))["s"]
    return {
        "workload": "W5",
        "units": n,
        "n": args.rounds,
        "months": len(PERIODS),
        "estates": len(estates),
        "charges": Charge.objects.count(),
        "batch": args.batch,
        "payments_in_batches": paid,
        "p50_ms": round(statistics.median(after), 1),
        "p95_ms": _pct(after, 0.95),
        "quiet_p50_ms": round(statistics.median(quiet), 1),
        "fold_p50_ms": round(statistics.median(fold), 1),
        "post_p50_ms": round(statistics.median(posting), 1),
        "pending_deltas_p50": statistics.median(pending),
        "rate": round(1000 / statistics.median(after), 2),
        "month_rate_checked": rate.billed == billed and rate.part == received
        if args.cells_times == 1
        else None,
        "cells_times": args.cells_times,
        "data_seconds": round(built - t0, 1),
        "rebuild_seconds": round(rebuilt - built, 1),
        "setup_seconds": round(setup, 1),
    }
