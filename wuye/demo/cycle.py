"""The fee cycle of the demo company, through the apps' own services: fee items and published
standards, waivers, late fees on what is still unpaid, a bill-notice campaign and a bank
statement. The year of bill runs and payments is `history.py`. `seed.py` runs these after the
company, staff and owners exist.

Unlike the registry areas (a bulk load, one audit row per area), every write here goes through
the service a member of staff would use, so the ledger, receipts, notice PDFs and audit trail
are the real ones. Each function looks up what already exists by natural key (item code, the
standard of an item and unit type, a waiver's reason, a late-fee assessment's date, a campaign
of an estate and period) and calls a service only for what is missing: a second run calls no
writing service at all.

Dates follow the calendar: billing covers the twelve months up to the current one
(`timezone.localdate()`, `periods_billed`), so a demo seeded in December 2026 bills 2026-01 ..
2026-12.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from wuye.billing import services as billing
from wuye.billing.models import Charge, LateFeeAssessment, Waiver
from wuye.billing.periods import Period
from wuye.core.errors import DomainError
from wuye.core.money import money
from wuye.fees import services as fees
from wuye.fees.models import FeeItem, FeeStandard, VacancyDiscount
from wuye.notifications import services as notifications
from wuye.notifications.models import Campaign, Message
from wuye.online import services as online
from wuye.registry.models import Estate, OwnerNote, Party, Unit

Created = dict[str, int]
MONTHS_BILLED = 12
PAYMENT_KEY = "demo-pay:"


# --- the fee plan -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemPlan:
    code: str
    name: str
    kind: str
    basis: str
    # unit type ("" = every type) -> rate; the residential property fee has a vacancy share
    rates: dict[str, str]
    meter_unit: str = ""
    treatment: str = "revenue"
    vacancy_rate: str | None = None


def _items(property_rates: dict[str, str], garbage: dict[str, str], water: str, deposit: dict):
    return [
        ItemPlan("PROPERTY", "物业服务费", "property", "per_area_month", property_rates,
                 vacancy_rate="0.70"),
        ItemPlan("GARBAGE", "生活垃圾处理费", "garbage", "per_unit_month", garbage),
        ItemPlan("WATER", "水费", "water", "metered", {"": water}, meter_unit="ton",
                 treatment="pass_through"),
        ItemPlan("DEPOSIT", "装修押金", "deposit", "one_off", deposit, treatment="deposit"),
    ]  # fmt: skip


FEE_PLAN: dict[str, dict] = {
    "HY": {
        "filing_ref": "深价备〔2025〕118号",
        "effective_from": date(2025, 1, 1),
        "items": _items({"residential": "2.80"}, {"residential": "8.00"}, "3.49", {"": "3000"}),
    },
    "LJ": {
        "filing_ref": "穗价备〔2025〕207号",
        "effective_from": date(2025, 7, 1),
        "items": _items({"residential": "2.20"}, {"residential": "6.00"}, "1.98", {"": "2000"}),
    },
    "CH": {
        "filing_ref": "深价备〔2025〕131号",
        "effective_from": date(2025, 1, 1),
        "items": [
            *_items(
                {"residential": "3.20", "commercial": "5.50", "storage": "1.50"},
                {"residential": "8.00", "commercial": "30.00"},
                "3.49",
                {"": "3000", "commercial": "10000"},
            ),
            ItemPlan("PARKING", "车位管理费", "parking", "per_unit_month", {"parking": "150.00"}),
        ],
    },
}
SERVICE_CONTENT = (
    "公共区域清洁、绿化养护、秩序维护（24小时门岗及巡逻）、共用设施设备日常运行维护、"
    "消防设施维护、客户服务（服务中心 8:30-18:00）。"
)


def _staff(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist as exc:
        raise DomainError(f"staff user {username} is missing: run seed_staff first") from exc


def _estates() -> list[Estate]:
    estates = list(Estate.objects.filter(code__in=FEE_PLAN).order_by("code"))
    if len(estates) < len(FEE_PLAN):
        raise DomainError("the demo estates are missing: run seed_company first")
    return estates


def periods_billed(today: date | None = None) -> list[Period]:
    """The twelve months up to and including the current one, oldest first."""
    current = Period.of(today or timezone.localdate())
    return [current.plus(-n) for n in range(MONTHS_BILLED - 1, -1, -1)]


# --- 4. fees ----------------------------------------------------------------------------------
def _publish(standard: FeeStandard, *, finance, supervisor) -> FeeStandard:
    """Take a standard from wherever it is to published (draft -> approved -> published)."""
    if standard.status == FeeStandard.Status.DRAFT:
        standard = fees.standard_approve(actor=supervisor, standard=standard)
    if standard.status == FeeStandard.Status.APPROVED:
        standard = fees.standard_publish(actor=finance, standard=standard)
    return standard


def _vacant_flat(estate: Estate) -> Unit | None:
    noted = OwnerNote.objects.filter(estate=estate).values("unit_id")
    return (
        Unit.objects.filter(estate=estate, unit_type="residential", occupancy="vacant")
        .exclude(pk__in=noted)
        .order_by("number")
        .first()
    )


@transaction.atomic
def seed_fees() -> Created:
    """Fee items and standards per estate (filed, approved by the supervisor, published with
    their notice PDF), and one approved vacancy discount in each of the two older estates."""
    finance, supervisor = _staff("finance"), _staff("supervisor")
    service, engineer = _staff("customer_service"), _staff("engineering")
    created: dict[str, int] = defaultdict(int)
    first_period = periods_billed()[0]
    for estate in _estates():
        fp = FEE_PLAN[estate.code]
        items = {i.code: i for i in FeeItem.objects.filter(estate=estate)}
        for ip in fp["items"]:
            item = items.get(ip.code)
            if item is None:
                item = fees.fee_item_create(
                    actor=finance,
                    estate=estate,
                    code=ip.code,
                    name=ip.name,
                    kind=ip.kind,
                    basis=ip.basis,
                    meter_unit=ip.meter_unit,
                    treatment=ip.treatment,
                    cycle="monthly",
                    timing="advance",
                    due_days=30,
                    online_payable=ip.treatment != "deposit",
                    prepayment_offset=ip.treatment == "revenue",
                )
                created["fee items"] += 1
            have = {
                s.unit_type: s
                for s in FeeStandard.objects.filter(fee_item=item)
                .exclude(status=FeeStandard.Status.WITHDRAWN)
                .order_by("version")
            }
            for unit_type, rate in ip.rates.items():
                standard = have.get(unit_type)
                if standard is None:
                    standard = fees.standard_create(
                        actor=finance,
                        fee_item=item,
                        unit_type=unit_type,
                        rate=rate,
                        effective_from=fp["effective_from"],
                        filing_ref=fp["filing_ref"],
                        service_content=SERVICE_CONTENT if ip.code == "PROPERTY" else "",
                        vacancy_rate=ip.vacancy_rate if item.is_recurring else None,
                    )
                    created["fee standards"] += 1
                if standard.status != FeeStandard.Status.PUBLISHED:
                    _publish(standard, finance=finance, supervisor=supervisor)
                    created["notices published"] += 1

        # A vacancy discount from the first billed month, applied, inspected and approved.
        if estate.code in ("HY", "LJ"):
            unit = _vacant_flat(estate)
            if unit is not None and not VacancyDiscount.objects.filter(unit=unit).exists():
                discount = fees.vacancy_apply(
                    actor=service,
                    unit=unit,
                    start_date=first_period.start,
                    notes="业主在外地工作，房屋未入住，申请空置房优惠。",
                )
                discount = fees.vacancy_inspect(
                    actor=engineer,
                    discount=discount,
                    vacant=True,
                    notes="水电表读数无变化，无人居住。",
                )
                fees.vacancy_approve(actor=supervisor, discount=discount)
                created["vacancy discounts"] += 1
    return dict(created)


# --- 5. billing -------------------------------------------------------------------------------
# (estate, note category, share waived, reason, approved?)
WAIVERS = [
    ("HY", "house_quality", Decimal("0.5"), "外墙渗水维修期间物业服务费减半（工程部已确认）", True),
    ("LJ", "house_quality", Decimal("1"), "卫生间漏水影响使用，申请减免当月物业服务费", False),
]


def _noted_units(estate: Estate, category: str) -> list[OwnerNote]:
    return list(OwnerNote.objects.filter(estate=estate, category=category).order_by("id"))


@transaction.atomic
def seed_waivers() -> Created:
    """Two waivers on owners with a house-quality dispute: one approved, one waiting."""
    supervisor, service = _staff("supervisor"), _staff("customer_service")
    created: dict[str, int] = defaultdict(int)
    estates = _estates()
    by_code = {e.code: e for e in estates}
    for code, category, share, reason, approve in WAIVERS:
        notes = _noted_units(by_code[code], category)
        if not notes:
            continue
        note = notes[0]
        if Waiver.objects.filter(charge__unit=note.unit_id, reason=reason).exists():
            continue
        charge = (
            Charge.objects.filter(
                unit=note.unit_id,
                kind=Charge.Kind.REGULAR,
                fee_item__code="PROPERTY",
                status=Charge.Status.OPEN,
            )
            .order_by("-period")
            .first()
        )
        if charge is None:
            continue
        waiver = billing.waiver_request(
            actor=service, charge=charge, amount=money(charge.outstanding * share), reason=reason
        )
        created["waivers requested"] += 1
        if approve:
            billing.waiver_approve(actor=supervisor, waiver=waiver, note="同意，按维修期减半。")
            created["waivers approved"] += 1
    return dict(created)


# --- 7. late fees -----------------------------------------------------------------------------
@transaction.atomic
def seed_late_fees() -> Created:
    """Late fees as of the first of the current month, where the contract has a clause, on
    what was still unpaid after collection (assessed before it, every charge would carry one)."""
    finance = _staff("finance")
    as_of = Period.of(timezone.localdate()).start
    created: dict[str, int] = defaultdict(int)
    for estate in _estates():
        if LateFeeAssessment.objects.filter(estate=estate, as_of=as_of).exists():
            continue
        result = billing.late_fee_assess(estate=estate, as_of=as_of, actor=finance)
        created["late fees"] += result.charges
    return dict(created)


# --- 8. messages ------------------------------------------------------------------------------
MESSAGE_ESTATE = "HY"


@transaction.atomic
def seed_messages() -> Created:
    """The current month's bill notices to the parties of 华苑 who still owe, through the
    outbox (the demo channel backend sends them when the worker runs)."""
    service = _staff("customer_service")
    estate = Estate.objects.get(code=MESSAGE_ESTATE)
    period = str(Period.of(timezone.localdate()))
    created: dict[str, int] = defaultdict(int)
    campaign = Campaign.objects.filter(
        estate=estate, period=period, purpose="bill_notice", status=Campaign.Status.DONE
    ).first()
    if campaign is None:
        before = Message.objects.count()
        campaign = notifications.campaign_start(actor=service, estate_id=estate.pk, period=period)
        notifications.campaign_run(campaign_id=campaign.pk)
        created["campaigns"] += 1
        created["messages"] += Message.objects.count() - before
    return dict(created)


# --- 9. a bank statement --------------------------------------------------------------------
STATEMENT_TRANSFERS = 12


def statement_csv(estate: Estate, day: date) -> bytes:
    """The collection account's online-banking export for `day`, as a Chinese bank gives it
    (GBK, the account above the table, credit and debit columns): transfers from the first
    owners of the estate naming their payment reference, two that name none (for staff to
    post by hand), and the bank's fee. The same bytes on every run of the same month."""
    parties = list(
        Party.objects.filter(estate=estate, relations__role="owner")
        .distinct()
        .order_by("pk")[:STATEMENT_TRANSFERS]
    )
    stamp = f"{day:%Y%m%d}"
    lines = [
        "账号,6222020200112233001",
        f"户名,{estate.name}物业服务中心",
        "",
        "交易日期,交易流水号,摘要,贷方金额,借方金额,对方户名,对方账号",
    ]
    for n, party in enumerate(parties, start=1):
        lines.append(
            f"{day},DEMO{stamp}{n:04d},物业费 {party.payment_ref},300.00,,{party.name},"
            f"62170000{party.pk:08d}"
        )
    lines.append(f"{day},DEMO{stamp}0901,转账 物业费,520.00,,王建国,6217000090010001")
    lines.append(f"{day},DEMO{stamp}0902,代缴 3栋车位费,180.00,,李秀英,6217000090010002")
    lines.append(f"{day},DEMO{stamp}0999,跨行转账手续费,,2.00,,")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def seed_statement() -> Created:
    """This month's first bank statement of 华苑, imported by finance as on the bank transfers
    page: most transfers posted with receipts, two waiting for staff."""
    finance = _staff("finance")
    estate = Estate.objects.get(code=MESSAGE_ESTATE)
    day = Period.of(timezone.localdate()).start
    statement, new = online.transfer_statement_import(
        actor=finance,
        estate=estate,
        file_name=f"{estate.code}-流水-{day:%Y%m%d}.csv",
        content=statement_csv(estate, day),
        inline=True,
    )
    return {"bank statements": int(new), "transfers posted": statement.posted if new else 0}


__all__ = [
    "periods_billed",
    "seed_waivers",
    "seed_fees",
    "seed_late_fees",
    "seed_messages",
    "seed_statement",
    "statement_csv",
]
