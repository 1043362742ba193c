"""The set-wise dunning run (services/run.py) against the rules it replaced row by row: the
netting of credit in SQL equals the reference `net_left`, a reminder lists every unit the
party owes on, and an opted-out channel is skipped."""

import gc
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wuye.billing.models import Charge, PrepaymentMovement
from wuye.collection.services.policies import policy_default
from wuye.collection.services.run import _figures, _temp_tables, dunning_run, net_left
from wuye.notifications.models import ChannelOptOut, Message
from wuye.registry.models import Unit, UnitParty

from .books import charge, fee_item

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 6, 30)

cents = st.integers(min_value=1, max_value=50000).map(lambda c: Decimal(c) / 100)
charges_st = st.lists(
    st.tuples(st.integers(0, 1), cents, st.integers(1, 200)), min_size=1, max_size=8
)
credits_st = st.lists(
    st.tuples(
        st.sampled_from([None, 0, 1]), st.integers(-20000, 80000).map(lambda c: Decimal(c) / 100)
    ),
    max_size=4,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(charges=charges_st, credits=credits_st)
def test_the_sql_netting_equals_the_reference(estate, unit, owner, charges, credits):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL nets in SQL; the portable path nets with net_left itself")
    items = [fee_item(estate), fee_item(estate, code="PARKING", name="车位费")]
    with transaction.atomic():
        made = []
        for n, (item, amount, age) in enumerate(charges):
            made.append(
                Charge.objects.create(
                    estate=estate,
                    unit=unit,
                    party=owner,
                    fee_item=items[item],
                    kind="adhoc",
                    period="2026-01",
                    period_start=date(2026, 1, 1),
                    period_end=date(2026, 1, 31),
                    amount=amount,
                    outstanding=amount,
                    bill_date=date(2026, 1, 1),
                    due_date=AS_OF - timedelta(days=age % 40 + 1),  # shared dates: ties by id
                    description=f"c{n}",
                )
            )
        for n, (item, amount) in enumerate(credits):
            PrepaymentMovement.objects.create(
                estate=estate,
                party=owner,
                fee_item=None if item is None else items[item],
                kind="topup" if amount > 0 else "refund",
                amount=amount,
                date=AS_OF,
                idempotency_key=f"netting-{n}-{timezone.now().timestamp()}",
            )
        balance: dict = {}
        for item, amount in credits:
            key = None if item is None else items[item].pk
            balance[key] = balance.get(key, Decimal("0.00")) + amount
        credit = {k: v for k, v in balance.items() if v > 0}
        ordered = sorted(made, key=lambda c: (c.due_date, c.pk))
        expected = net_left([(c.fee_item_id, c.outstanding) for c in ordered], credit)
        with connection.cursor() as cursor:
            _temp_tables(cursor, create=True)
            _figures(cursor, estate, AS_OF)
            cursor.execute("SELECT charge_id, lft FROM dun_left")
            left = dict(cursor.fetchall())
            cursor.execute("SELECT net, oldest FROM dun_fig WHERE party_id = %s", [owner.pk])
            net, oldest = cursor.fetchone()
            _temp_tables(cursor, create=False)
        assert [left[c.pk] for c in ordered] == expected
        assert net == sum(expected, Decimal("0.00"))
        unpaid = [c.due_date for c, lft in zip(ordered, expected, strict=True) if lft > 0]
        assert oldest == (unpaid[0] if unpaid else None)
        transaction.set_rollback(True)


def test_a_reminder_lists_every_unit_owed_on_and_skips_an_opted_out_channel(
    estate, building, unit, owner
):
    policy_default(estate=estate)
    second = Unit.objects.create(
        estate=estate, building=building, number="1-1-101", floor=1, gross_area=Decimal("60")
    )
    UnitParty.objects.create(
        estate=estate, unit=second, party=owner, start_date=date(2025, 6, 1), is_payer=True
    )
    charge(unit, owner, "2026-01", "300.00", due=date(2026, 1, 28))
    charge(second, owner, "2026-01", "200.00", due=date(2026, 1, 28))
    owner.consents = {"sms": True}
    owner.save()
    ChannelOptOut.objects.create(
        estate=estate, party=owner, channel="sms", at=timezone.now(), source="test"
    )
    run = dunning_run(as_of=date(2026, 1, 30), estate_id=estate.pk)
    assert run.counts["by_stage"] == {"1": 1}
    message = Message.objects.get(party=owner)
    # sms is opted out and nothing else reaches the owner: a letter to the units
    assert message.channel == "letter" and message.status == "queued"
    assert message.params["unit"] == "1-1-101、1-1-301"
    assert message.params["amount"] == "500.00"
    assert message.address == "深圳市南山区华苑路1号 1-1-101、1-1-301"


def test_a_formal_demand_stage_never_posts_to_an_owner_who_refused_letters(estate, unit, owner):
    policy_default(estate=estate)  # stage 3 (31 days): a formal demand by letter and a call
    charge(unit, owner, "2026-01", "300.00", due=date(2026, 1, 28))
    ChannelOptOut.objects.create(
        estate=estate, party=owner, channel="letter", at=timezone.now(), source="hotline"
    )
    dunning_run(as_of=date(2026, 3, 5), estate_id=estate.pk)
    demand = Message.objects.get(party=owner, purpose="formal_demand")
    # the letter is held back as refused (issue 11 §14): the collector serves it by hand
    assert (demand.channel, demand.status, demand.suppressed_reason) == (
        "letter",
        "suppressed",
        "opted_out",
    )


def _letter_estate(code: str, n: int):
    """An estate of `n` owners reached only by letter, each owing January on a unit he sold
    on 31 March: one in three still holds another unit, one has his own mailing address, one
    holds nothing any more."""
    from wuye.registry.models import Building, Estate, Party

    estate = Estate.objects.create(
        code=code, name=f"{code}小区", address="深圳市南山区华苑路1号", hotline="0755-86001234"
    )
    building = Building.objects.create(estate=estate, code="1", name="1栋")
    policy_default(estate=estate)
    expected = {}
    for i in range(n):
        party = Party.objects.create(
            estate=estate,
            name=f"业主{i}",
            mailing_address="广州市天河区体育西路100号" if i % 3 == 1 else "",
        )
        sold, kept = (
            Unit.objects.create(
                estate=estate,
                building=building,
                number=f"1-{i}-{room}",
                floor=3,
                gross_area=Decimal("80"),
            )
            for room in (301, 302)
        )
        UnitParty.objects.create(
            estate=estate,
            unit=sold,
            party=party,
            start_date=date(2025, 6, 1),
            end_date=date(2026, 3, 31),
            is_payer=True,
        )
        if i % 3 == 0:
            UnitParty.objects.create(
                estate=estate, unit=kept, party=party, start_date=date(2025, 6, 1), is_payer=True
            )
        charge(sold, party, "2026-01", "300.00", due=date(2026, 1, 28))
        expected[party.pk] = [
            f"深圳市南山区华苑路1号 1-{i}-302",  # the unit he holds, never the one he sold
            "广州市天河区体育西路100号",
            "",  # kept as "no address" until staff record one
        ][i % 3]
    return estate, expected


def test_a_runs_letters_cost_the_same_queries_for_three_owners_as_for_twelve():
    from django.test.utils import CaptureQueriesContext

    queries = []
    for code, n in (("AA", 3), ("BB", 12)):
        estate, expected = _letter_estate(code, n)
        with CaptureQueriesContext(connection) as captured:
            run = dunning_run(as_of=date(2026, 4, 30), estate_id=estate.pk)
        queries.append(len(captured))
        assert gc.isenabled()  # the messages step turns the cycle collector off, then on
        letters = Message.objects.filter(estate=estate, channel="letter")
        assert run.counts["messages"] == n == letters.count()
        assert {m.party_id: m.address for m in letters} == expected
        assert {m.party_id for m in letters if m.suppressed_reason == "no_address"} == {
            pk for pk, address in expected.items() if not address
        }
    # (before: one query per letter to a party without a mailing address)
    assert queries[1] == queries[0], queries
