"""Fixtures of the fees tests: fee items and staff of the estate, media in a temp folder."""

from datetime import timedelta
from decimal import Decimal

import pytest


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
def property_item(finance, estate):
    from wuye.fees import services

    return services.fee_item_create(
        actor=finance,
        estate=estate,
        code="property",
        name="物业服务费",
        kind="property",
        basis="per_area_month",
    )


@pytest.fixture
def water_item(finance, estate):
    from wuye.fees import services

    return services.fee_item_create(
        actor=finance,
        estate=estate,
        code="WATER",
        name="水费",
        kind="water",
        basis="metered",
        meter_unit="ton",
        timing="arrears",
        treatment="pass_through",
    )


@pytest.fixture
def published(finance, supervisor):
    """published(item, rate, from, unit_type="") -> a published standard."""
    from wuye.fees import services

    def make(item, rate, effective_from, unit_type="", today=None, **fields):
        std = services.standard_create(
            actor=finance,
            fee_item=item,
            rate=Decimal(rate),
            effective_from=effective_from,
            unit_type=unit_type,
            **fields,
        )
        services.standard_approve(actor=supervisor, standard=std)
        # published a month ahead by default: an increase needs its notice period
        today = today or effective_from - timedelta(days=31)
        return services.standard_publish(actor=finance, standard=std, today=today)

    return make
