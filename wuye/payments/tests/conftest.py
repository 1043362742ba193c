"""Fixtures of the payments tests: the estate's property fee with a published standard, staff,
an open shift, and charges posted to the ledger as a bill run would."""

from datetime import date
from decimal import Decimal

import pytest

TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def finance(make_staff, estate):
    return make_staff("finance", estates=[estate])


@pytest.fixture
def supervisor(make_staff, estate):
    return make_staff("supervisor", estates=[estate])


@pytest.fixture
def cashier(make_staff, estate):
    return make_staff("cashier", estates=[estate])


def published_property_item(finance, supervisor, estate, *, vacancy_rate=None):
    """物业服务费 at 2.80 per m² per month (vacant units at `vacancy_rate` of it), filed,
    approved and published from 2026-01-01."""
    from wuye.fees import services

    item = services.fee_item_create(
        actor=finance,
        estate=estate,
        code="PROPERTY",
        name="物业服务费",
        kind="property",
        basis="per_area_month",
    )
    std = services.standard_create(
        actor=finance,
        fee_item=item,
        rate=Decimal("2.80"),
        effective_from=date(2026, 1, 1),
        vacancy_rate=vacancy_rate,
    )
    services.standard_approve(actor=supervisor, standard=std)
    services.standard_publish(actor=finance, standard=std, today=date(2025, 12, 1))
    return item


@pytest.fixture
def property_item(finance, supervisor, estate):
    """物业服务费 at 2.80 per m² per month, published from 2026-01-01."""
    return published_property_item(finance, supervisor, estate)


@pytest.fixture
def parking_item(finance, estate):
    from wuye.fees import services

    return services.fee_item_create(
        actor=finance,
        estate=estate,
        code="PARKING",
        name="停车费",
        kind="parking",
        basis="per_unit_month",
    )


@pytest.fixture
def shift(cashier, estate):
    from wuye.payments.services import shift_open

    return shift_open(actor=cashier, estate=estate, float_amount="200.00", today=TODAY)


@pytest.fixture
def make_charge(owner, unit):
    """make_charge(item, "2026-01", "250.60", kind="regular", source=None) -> an open charge,
    posted Dr RECEIVABLE Cr revenue as billing posts it."""
    from wuye.billing.testing import charge_posted

    def make(item, period, amount, *, kind="regular", source=None, party=None, due=None):
        return charge_posted(
            unit,
            party or owner,
            period,
            amount,
            item=item,
            kind=kind,
            due=due,
            source=source,
            announce=True,
        )

    return make


def books(estate):
    """(RECEIVABLE balance, sum of open charges, PREPAYMENTS balance, sum of movements,
    total debits, total credits) of the estate."""
    from wuye.billing.models import Charge, PrepaymentMovement
    from wuye.core.money import MoneySum
    from wuye.ledger import chart
    from wuye.ledger.models import Posting

    def bal(code):
        r = Posting.objects.filter(estate=estate, account__code=code).aggregate(
            d=MoneySum("debit"), c=MoneySum("credit")
        )
        return (r["d"] or 0) - (r["c"] or 0)

    totals = Posting.objects.filter(estate=estate).aggregate(
        d=MoneySum("debit"), c=MoneySum("credit")
    )
    return {
        "receivable": bal(chart.RECEIVABLE),
        "open_charges": Charge.objects.filter(estate=estate).aggregate(s=MoneySum("outstanding"))[
            "s"
        ]
        or 0,
        "prepayments": -bal(chart.PREPAYMENTS),
        "movements": PrepaymentMovement.objects.filter(estate=estate).aggregate(
            s=MoneySum("amount")
        )["s"]
        or 0,
        "debits": totals["d"] or 0,
        "credits": totals["c"] or 0,
    }
