"""Fee items and the fee-standard lifecycle: draft -> approved -> published (with its notice)."""

import subprocess
from datetime import date
from decimal import Decimal

import pytest

from wuye.audit.models import AuditEvent
from wuye.core.errors import DomainError, PermissionDenied
from wuye.fees import calculations, selectors, services
from wuye.fees.models import FeeItem, FeeStandard
from wuye.ledger import chart

pytestmark = pytest.mark.django_db


def pdf_text(field_file) -> str:
    with field_file.open("rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF")
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return out.stdout.decode("utf-8")


def test_a_fee_item_knows_its_cycle_and_ledger_account(property_item, water_item, finance, estate):
    # given a deposit item as well
    deposit = services.fee_item_create(
        actor=finance,
        estate=estate,
        code="RENO_DEPOSIT",
        name="装修押金",
        kind="deposit",
        basis="one_off",
        treatment="deposit",
        cycle="yearly",
    )
    # then
    assert property_item.code == "PROPERTY"
    assert property_item.gl_account() == chart.revenue_account("PROPERTY") == "6001.PROPERTY"
    assert water_item.gl_account() == chart.PASS_THROUGH
    assert deposit.gl_account() == chart.DEPOSITS
    assert property_item.months == 1 and deposit.months == 12
    assert AuditEvent.objects.filter(subject_type="fees.feeitem", action="create").count() == 3
    # and the revenue item has its own revenue account in the ledger, the others none
    from wuye.ledger.models import Account

    account = Account.objects.get(code="6001.PROPERTY")
    assert account.kind == "income" and "物业服务费" in account.name
    assert not Account.objects.filter(code__in=["6001.WATER", "6001.RENO_DEPOSIT"]).exists()


def test_two_items_of_an_estate_cannot_share_a_code(property_item, finance, estate):
    with pytest.raises(DomainError, match="PROPERTY"):
        services.fee_item_create(
            actor=finance,
            estate=estate,
            code="Property",
            name="物业费2",
            kind="property",
            basis="per_area_month",
        )


def test_a_metered_item_needs_a_meter_unit(finance, estate):
    with pytest.raises(DomainError) as err:
        services.fee_item_create(
            actor=finance,
            estate=estate,
            code="ELEC",
            name="电费",
            kind="electricity",
            basis="metered",
        )
    assert err.value.field == "meter_unit" and "电费" in err.value.message


def test_a_draft_standard_cannot_be_used_for_billing(property_item, finance, estate):
    # given a draft only
    services.standard_create(
        actor=finance, fee_item=property_item, rate="2.50", effective_from=date(2026, 1, 1)
    )
    # when billing asks for the standard in force
    with pytest.raises(DomainError) as err:
        selectors.standard_in_force(
            estate_id=estate.pk,
            fee_item=property_item,
            unit_type="residential",
            on=date(2026, 3, 1),
        )
    # then the message names the item, the date and why
    message = err.value.message
    assert "物业服务费" in message and "PROPERTY" in message
    assert "2026-03-01" in message and "draft" in message and "published" in message


def test_no_standard_at_all_is_said_plainly(property_item, estate):
    with pytest.raises(DomainError, match="no fee standard has been published"):
        selectors.standard_in_force(
            estate_id=estate.pk, fee_item=property_item, unit_type="", on=date(2026, 3, 1)
        )


def test_a_standard_not_yet_in_force_is_said_so(property_item, published, estate):
    published(property_item, "2.50", date(2026, 7, 1))
    with pytest.raises(DomainError, match=r"not yet effective \(from 2026-07-01\)"):
        selectors.standard_in_force(
            estate_id=estate.pk, fee_item=property_item, unit_type="", on=date(2026, 6, 30)
        )


def test_approval_needs_a_supervisor(property_item, finance):
    # given a draft written by finance
    std = services.standard_create(
        actor=finance, fee_item=property_item, rate="2.50", effective_from=date(2026, 1, 1)
    )
    # when finance tries to approve it, then it is refused
    with pytest.raises(PermissionDenied, match="approve_feestandard"):
        services.standard_approve(actor=finance, standard=std)
    std.refresh_from_db()
    assert std.status == FeeStandard.Status.DRAFT


def test_only_an_approved_standard_can_be_published(property_item, finance):
    std = services.standard_create(
        actor=finance, fee_item=property_item, rate="2.50", effective_from=date(2026, 1, 1)
    )
    with pytest.raises(DomainError, match="only an approved standard"):
        services.standard_publish(actor=finance, standard=std)


def test_publishing_produces_a_notice_naming_the_estate_and_the_rate(
    property_item, finance, supervisor, estate
):
    # given an approved standard with a filing reference
    std = services.standard_create(
        actor=finance,
        fee_item=property_item,
        rate="2.80",
        effective_from=date(2026, 1, 1),
        filing_ref="深价备〔2025〕118号",
        service_content="公共区域清洁、秩序维护、绿化养护、共用设施设备维修养护。",
        vacancy_rate="0.7",
    )
    services.standard_approve(actor=supervisor, standard=std)
    # when finance publishes it
    std = services.standard_publish(actor=finance, standard=std, today=date(2025, 12, 1))
    # then it is in force and its notice carries the estate, the rate and the terms
    assert std.status == FeeStandard.Status.PUBLISHED and std.published_by == finance
    assert std.pricing_mode == "lump_sum"  # copied from the estate's contract
    text = pdf_text(std.notice_pdf)
    for expected in (
        "华苑小区",
        "物业服务费",
        "2.8 元/m²/月",
        "包干制",
        "深价备〔2025〕118号",
        "2026-01-01",
        "0755-86001234",
        "公示日期",
        "2025年12月01日",
        "秩序维护",
        "70%",
    ):
        assert expected in text, expected
    in_force = selectors.standard_in_force(
        estate_id=estate.pk, fee_item=property_item, unit_type="residential", on=date(2026, 5, 1)
    )
    assert in_force == std
    assert (
        AuditEvent.objects.filter(
            subject_type="fees.feestandard", subject_id=str(std.pk), action="approve"
        ).count()
        == 2
    )


def test_a_new_version_ends_the_previous_one_the_day_before(property_item, published, estate):
    # given version 1 in force from January
    v1 = published(property_item, "2.50", date(2026, 1, 1))
    # when version 2 is published from July
    v2 = published(property_item, "2.80", date(2026, 7, 1))
    # then v1 ends on 30 June and each day has exactly one rate
    v1.refresh_from_db()
    assert (v1.version, v2.version) == (1, 2)
    assert v1.effective_to == date(2026, 6, 30) and v2.effective_to is None
    on = selectors.standard_in_force
    assert on(estate_id=estate.pk, fee_item=property_item, unit_type="", on=date(2026, 6, 30)) == v1
    assert on(estate_id=estate.pk, fee_item=property_item, unit_type="", on=date(2026, 7, 1)) == v2


def test_an_overlapping_version_is_refused(property_item, published, finance, supervisor):
    # given version 1 published from July
    published(property_item, "2.50", date(2026, 7, 1))
    # when version 2 would start earlier (or the same day)
    for start in (date(2026, 3, 1), date(2026, 7, 1)):
        std = services.standard_create(
            actor=finance, fee_item=property_item, rate="2.60", effective_from=start
        )
        services.standard_approve(actor=supervisor, standard=std)
        # then publishing it is refused naming the item and the dates
        with pytest.raises(DomainError) as err:
            services.standard_publish(actor=finance, standard=std)
        assert "物业服务费" in err.value.message and "2026-07-01" in err.value.message
        assert err.value.code == "overlap"
        std.refresh_from_db()
        assert std.status == FeeStandard.Status.APPROVED and not std.notice_pdf


@pytest.mark.parametrize(
    "rate, problem",
    [
        ("-1", "negative"),
        ("0", "above zero"),
        ("51", "above the limit of 50"),
        ("2.123456", "4 decimal places"),
        ("abc", "not a number"),
    ],
)
def test_an_absurd_rate_is_refused_naming_the_item(property_item, finance, rate, problem):
    with pytest.raises(DomainError) as err:
        services.standard_create(
            actor=finance, fee_item=property_item, rate=rate, effective_from=date(2026, 1, 1)
        )
    assert err.value.field == "rate"
    assert "物业服务费 (PROPERTY)" in err.value.message and problem in err.value.message
    assert not FeeStandard.objects.exists()


def test_each_basis_has_its_own_ceiling(finance, estate):
    parking = services.fee_item_create(
        actor=finance,
        estate=estate,
        code="PARK",
        name="车位管理费",
        kind="parking",
        basis="per_unit_month",
    )
    # a parking fee of 300/month is fine where 300/m² would not be
    std = services.standard_create(
        actor=finance, fee_item=parking, rate="300", effective_from=date(2026, 1, 1)
    )
    assert std.rate == Decimal("300.0000")
    with pytest.raises(DomainError, match="车位管理费"):
        services.standard_create(
            actor=finance,
            fee_item=parking,
            rate=calculations.MAX_RATE["per_unit_month"] + 1,
            effective_from=date(2026, 1, 1),
        )


def test_a_unit_type_specific_standard_wins(property_item, published, estate):
    # given a general rate and a higher one for commercial units
    general = published(property_item, "2.50", date(2026, 1, 1))
    shops = published(property_item, "6.00", date(2026, 1, 1), unit_type="commercial")
    # then a shop pays the commercial rate and a flat the general one
    on = date(2026, 2, 1)
    kw = {"estate_id": estate.pk, "fee_item": property_item, "on": on}
    assert selectors.standard_in_force(unit_type="commercial", **kw) == shops
    assert selectors.standard_in_force(unit_type="residential", **kw) == general
    # and versions are counted per unit type
    assert general.version == 1 and shops.version == 1


def test_versions_are_numbered_in_order(property_item, finance):
    kw = {"actor": finance, "fee_item": property_item, "effective_from": date(2026, 1, 1)}
    versions = [services.standard_create(rate="2.5", **kw).version for _ in range(3)]
    assert versions == [1, 2, 3]


def test_withdrawing_a_published_version_hands_back_to_the_previous(
    property_item, published, finance, estate
):
    # given v1 from January ended by v2 from July
    v1 = published(property_item, "2.50", date(2026, 1, 1))
    v2 = published(property_item, "2.80", date(2026, 7, 1))
    # when v2 is withdrawn
    services.standard_withdraw(actor=finance, standard=v2, reason="备案未通过")
    # then v1 is in force again with no gap
    v1.refresh_from_db()
    assert v1.effective_to is None
    found = selectors.standard_in_force(
        estate_id=estate.pk, fee_item=property_item, unit_type="", on=date(2026, 8, 1)
    )
    assert found == v1


def test_staff_of_another_estate_cannot_add_standards(property_item, make_staff, other_estate):
    stranger = make_staff("finance", estates=[other_estate])
    with pytest.raises(PermissionDenied):
        services.standard_create(
            actor=stranger, fee_item=property_item, rate="2.5", effective_from=date(2026, 1, 1)
        )


def test_basis_is_frozen_once_an_item_has_standards(property_item, finance):
    services.standard_create(
        actor=finance, fee_item=property_item, rate="2.5", effective_from=date(2026, 1, 1)
    )
    with pytest.raises(DomainError, match="basis cannot change"):
        services.fee_item_update(actor=finance, item=property_item, basis="per_unit_month")
    item = services.fee_item_update(actor=finance, item=property_item, name="物业管理费")
    assert FeeItem.objects.get(pk=item.pk).name == "物业管理费"


def test_recurring_items_are_the_area_and_unit_based_ones(property_item, water_item, estate):
    assert selectors.recurring_items(estate.pk) == [property_item]


# --- 公示 before a price increase (issue 11 point 13) -------------------------------------------


def _approved(item, rate, start, finance, supervisor):
    std = services.standard_create(actor=finance, fee_item=item, rate=rate, effective_from=start)
    return services.standard_approve(actor=supervisor, standard=std)


def test_an_increase_applies_only_after_the_notice_period(
    property_item, published, finance, supervisor
):
    # given 2.50 in force since January
    published(property_item, "2.50", date(2026, 1, 1))
    # when 2.80 is published on 15 June to apply from 1 July (16 days) or from 1 June (before
    # publication), it is refused naming the earliest day
    for start in (date(2026, 7, 1), date(2026, 6, 1)):
        std = _approved(property_item, "2.80", start, finance, supervisor)
        with pytest.raises(DomainError) as refused:
            services.standard_publish(actor=finance, standard=std, today=date(2026, 6, 15))
        assert refused.value.code == "notice_period" and "2026-07-15" in refused.value.message
        std.refresh_from_db()
        assert std.status == FeeStandard.Status.APPROVED
    # and from 15 July (30 days after publication) it is published
    std = _approved(property_item, "2.80", date(2026, 7, 15), finance, supervisor)
    std = services.standard_publish(actor=finance, standard=std, today=date(2026, 6, 15))
    assert std.status == FeeStandard.Status.PUBLISHED


def test_the_notice_period_is_the_estates(property_item, published, finance, supervisor, estate):
    estate.fee_notice_days = 60
    estate.save()
    published(property_item, "2.50", date(2026, 1, 1))
    std = _approved(property_item, "2.80", date(2026, 8, 1), finance, supervisor)
    with pytest.raises(DomainError, match="60 days"):
        services.standard_publish(actor=finance, standard=std, today=date(2026, 6, 15))


def test_a_decrease_may_apply_at_once(property_item, published, finance, supervisor):
    published(property_item, "2.80", date(2026, 1, 1))
    std = _approved(property_item, "2.50", date(2026, 6, 15), finance, supervisor)
    std = services.standard_publish(actor=finance, standard=std, today=date(2026, 6, 15))
    assert std.status == FeeStandard.Status.PUBLISHED
