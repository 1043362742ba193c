"""W5 dashboard: the collection dashboard of a company over 12 months x N units, right after
a batch of payments (DESIGN.md §6).

    python -m bench W5 --units 1000000 --database-url postgres://postgres@127.0.0.1:5432/wuye_w5

Setup (not timed): `--estates` estates of N/estates units in buildings of `--per-building`
units, one owner each, a published 2.80/m² fee, twelve monthly bill runs (the real set-wise
runs), then about 85% of the charges paid and the rest in arrears -- written set-wise in SQL
(payments, allocations, charge balances), since the bench measures the reports, not the
window -- and the report summaries rebuilt.

Timed, `--rounds` times: a batch of `--batch` payments through `payments_take` (the set-wise
online/bank path: the posting services mark the summary cells they touch), then one page view
of the dashboard of the whole company (a supervisor of every estate, through Django's test
client: URL routing, the view, the figures, the SVG charts, the template). The first view
after a batch recomputes what the batch marked, so `p50_ms`/`p95_ms` are "page view after a
change". Reported besides: the same page with nothing marked (`quiet_p50_ms`), the
recomputation alone per batch (`refresh_p50_ms`), and whether the cells still equal the
books for the month (`month_rate_checked`)."""

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
    """Twelve bill runs per estate; then ~85% of charges paid set-wise: one payment per
    (party, period) dated in the period (or, for 1 in 10 of the older ones, two months
    later: recovered arrears)."""
    from django.db import connection, transaction

    from wuye.billing import services

    for estate in estates:
        for period in PERIODS:
            run = services.billing_run_create(actor=None, estate=estate, period=period, as_of=AS_OF)
            services.billing_run_post(run=run, actor=None)
    pg = connection.vendor == "postgresql"
    month_of = "TO_DATE(c.period || '-10', 'YYYY-MM-DD')" if pg else "DATE(c.period || '-10')"
    later = f"({month_of} + INTERVAL '2 months')::date" if pg else f"DATE({month_of}, '+2 months')"
    unpaid = "c.id %% 100 < 15 AND c.period >= '2026-07'"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO payments_payment (estate_id, party_id, unit_id, shift_id, channel,
                source, external_ref, amount, allocated, prepaid, rounded_off, earmark_id,
                business_date, received_at, status, payer_name, note, idempotency_key,
                entry_id, corrects_id, created_by_id)
            SELECT c.estate_id, c.party_id, c.unit_id, NULL,
                CASE WHEN c.id %% 3 = 0 THEN 'wechat' WHEN c.id %% 3 = 1 THEN 'alipay'
                     ELSE 'transfer' END,
                'online', '', c.amount, c.amount, 0, 0, NULL,
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
    from django.test import Client

    from wuye.accounts.roles import sync_roles
    from wuye.registry.models import StaffProfile
    from wuye.reports import selectors, summaries

    n = args.units or 100_000
    t0 = time.perf_counter()
    estates = _build(n, args.estates, args.per_building)
    _bill_and_pay(estates)
    summaries.rebuild()
    sync_roles()
    user = get_user_model().objects.create_user(username="w5-supervisor", password="x")
    user.groups.add(Group.objects.get(name="supervisor"))
    StaffProfile.objects.create(user=user).estates.set(estates)
    setup = time.perf_counter() - t0
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(user)
    url = f"/reports/?as_of={AS_OF.isoformat()}"
    assert client.get(url).status_code == 200  # warm: templates, first queries
    after, quiet, refresh, paid = [], [], [], 0
    for r in range(args.rounds):
        paid += _batch(estates, args.batch, r)
        t = time.perf_counter()
        response = client.get(url)
        after.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
        t = time.perf_counter()
        client.get(url)
        quiet.append((time.perf_counter() - t) * 1000)
        # the recomputation alone, for one more batch marked (then read again)
        paid += _batch(estates, args.batch, args.rounds + r)
        t = time.perf_counter()
        summaries.refresh()
        refresh.append((time.perf_counter() - t) * 1000)
    # the figure still equals the books: December's collection rate from the charges
    from django.db.models import Sum

    from wuye.billing.models import Charge
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
        "estates": args.estates,
        "charges": Charge.objects.count(),
        "batch": args.batch,
        "payments_in_batches": paid,
        "p50_ms": round(statistics.median(after), 1),
        "p95_ms": _pct(after, 0.95),
        "quiet_p50_ms": round(statistics.median(quiet), 1),
        "refresh_p50_ms": round(statistics.median(refresh), 1),
        "rate": round(1000 / statistics.median(after), 2),
        "month_rate_checked": rate.billed == billed and rate.part == received,
        "setup_seconds": round(setup, 1),
    }
