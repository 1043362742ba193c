"""Billing fixtures: a published per-m² property fee, staff, helpers to bill and check books."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.fees.models import FeeItem, FeeStandard


@pytest.fixture
def make_item(estate):
    """make_item(code=..., basis=..., rate=..., **item fields) -> a fee item with a published
    standard (rate per month) effective from 2025-01-01."""

    def make(
        code="PROPERTY",
        name="物业服务费",
        *,
        rate="2.80",
        basis=FeeItem.Basis.PER_AREA_MONTH,
        unit_type="",
        vacancy_rate=None,
        status=FeeStandard.Status.PUBLISHED,
        target_estate=None,
        **fields,
    ):
        est = target_estate or estate
        fields.setdefault("kind", FeeItem.Kind.PROPERTY)
        fields.setdefault("due_days", 30)
        item, _ = FeeItem.objects.get_or_create(
            estate=est, code=code, defaults={"name": name, "basis": basis, **fields}
        )
        if rate is not None:
            FeeStandard.objects.create(
                estate=est,
                fee_item=item,
                unit_type=unit_type,
                version=FeeStandard.objects.filter(fee_item=item).count() + 1,
                rate=Decimal(rate),
                effective_from=date(2025, 1, 1),
                vacancy_rate=None if vacancy_rate is None else Decimal(vacancy_rate),
                status=status,
            )
        return item

    return make


@pytest.fixture
def property_fee(make_item):
    return make_item()


@pytest.fixture
def finance(make_staff, estate):
    return make_staff("finance", estates=[estate])


@pytest.fixture
def supervisor(make_staff, estate):
    return make_staff("supervisor", estates=[estate])


@pytest.fixture
def bill(finance):
    """bill("2026-12") -> the posted run of the estate for that period."""
    from wuye.billing import services

    def run(period, *, estate=None, as_of=date(2027, 6, 30), actor=None):
        from wuye.registry.models import Estate

        est = estate or Estate.objects.get(code="HY")
        r = services.billing_run_create(
            actor=actor or finance, estate=est, period=period, as_of=as_of
        )
        return services.billing_run_post(run=r, actor=actor or finance)

    return run


@pytest.fixture
def books_balance():
    """books_balance(estate) -> (control account, open charges) for comparing."""
    from django.db.models import Sum

    from wuye.billing.models import Charge
    from wuye.ledger import chart
    from wuye.ledger.selectors import account_balance

    def check(estate):
        gl = account_balance(estate, chart.RECEIVABLE)
        sub = Charge.objects.filter(estate=estate).aggregate(s=Sum("outstanding"))["s"] or 0
        return gl, Decimal(sub)

    return check
