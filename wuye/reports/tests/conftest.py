"""Reports fixtures: a small estate of three households in two buildings, billed 200.00 a
month each, and the people who post to it."""

from datetime import date
from decimal import Decimal

import pytest

from wuye.fees.models import FeeItem, FeeStandard


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def finance(make_staff, estate):
    return make_staff("finance", estates=[estate])


@pytest.fixture
def supervisor(make_staff, estate):
    return make_staff("supervisor", estates=[estate])


@pytest.fixture
def cashier(make_staff, estate):
    user = make_staff("cashier", estates=[estate])
    user.last_name = "王芳"
    user.save()
    return user


@pytest.fixture
def fee(estate):
    """物业服务费 2.00/m²/month, billed at the start of the month, due 30 days later."""
    item = FeeItem.objects.create(
        estate=estate,
        code="PROPERTY",
        name="物业服务费",
        basis=FeeItem.Basis.PER_AREA_MONTH,
        kind=FeeItem.Kind.PROPERTY,
        timing=FeeItem.Timing.ADVANCE,
        advance_days=0,
        due_days=30,
    )
    FeeStandard.objects.create(
        estate=estate,
        fee_item=item,
        version=1,
        rate=Decimal("2.00"),
        effective_from=date(2025, 1, 1),
        status=FeeStandard.Status.PUBLISHED,
    )
    return item


@pytest.fixture
def households(estate, fee):
    """{"A1": (unit, owner), "A2": ..., "B1": ...}: 1栋 has A1 and A2, 2栋 has B1; 100 m²."""
    from wuye.registry.models import Building, Party, Unit, UnitParty

    b1 = Building.objects.create(estate=estate, code="1", name="1栋")
    b2 = Building.objects.create(estate=estate, code="2", name="2栋")
    out = {}
    for key, building, number, name in [
        ("A1", b1, "1-1-101", "张伟"),
        ("A2", b1, "1-1-102", "李娜"),
        ("B1", b2, "2-1-101", "王强"),
    ]:
        unit = Unit.objects.create(
            estate=estate,
            building=building,
            number=number,
            gross_area=Decimal("100.00"),
            handover_date=date(2025, 1, 1),
            fee_start_date=date(2025, 1, 1),
        )
        party = Party.objects.create(estate=estate, name=name, mobile="13800000000")
        UnitParty.objects.create(
            estate=estate, unit=unit, party=party, start_date=date(2025, 1, 1), is_payer=True
        )
        out[key] = (unit, party)
    return out


@pytest.fixture
def bill(finance, estate):
    from wuye.billing import services

    def run(period: str, as_of: date):
        r = services.billing_run_create(actor=finance, estate=estate, period=period, as_of=as_of)
        return services.billing_run_post(run=r, actor=finance)

    return run


@pytest.fixture
def shift_on(cashier, estate):
    """shift_on(day) -> the cashier's open shift (closing none: one shift serves the test)."""
    from wuye.payments.services import shift_open

    state = {}

    def get(day):
        if "shift" not in state:
            state["shift"] = shift_open(actor=cashier, estate=estate, today=day)
        return state["shift"]

    return get
