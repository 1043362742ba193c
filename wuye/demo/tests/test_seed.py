"""The demo company: what `wuye seed-demo` creates, and that running it again changes nothing.

The company is seeded once for the package (`conftest.seeded`)."""

import io
import re
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.db.models import Count, Max, Min

from wuye.accounts.roles import ROLES
from wuye.audit.models import AuditEvent
from wuye.demo import identities, plan, seed
from wuye.registry import selectors
from wuye.registry.models import (
    Building,
    Estate,
    OwnerNote,
    Party,
    ServiceContract,
    StaffProfile,
    Unit,
    UnitParty,
)

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
MODELS = [Estate, Building, Unit, Party, UnitParty, ServiceContract, OwnerNote, StaffProfile]


def counts() -> dict[str, int]:
    numbers = {m.__name__: m.objects.count() for m in MODELS}
    numbers["User"] = get_user_model().objects.count()
    numbers["AuditEvent"] = AuditEvent.objects.count()
    return numbers


def staff(username: str):
    return get_user_model().objects.get(username=username)  # a fresh permission cache


# --- the company ----------------------------------------------------------------------------
def test_the_company_has_three_estates_and_about_three_thousand_units(seeded, db):
    assert sorted(Estate.objects.values_list("code", flat=True)) == ["CH", "HY", "LJ"]
    assert 2800 <= Unit.objects.count() <= 3200
    per_estate = dict(Unit.objects.values_list("estate__code").annotate(n=Count("id")))
    assert all(n > 500 for n in per_estate.values())
    assert Building.objects.count() >= 20


def test_units_are_numbered_building_entrance_room(seeded, db):
    flat = Unit.objects.get(estate__code="HY", number="3-2-1502")
    assert (flat.building.code, flat.entrance, flat.floor) == ("3", "2", 15)
    pattern = re.compile(r"^[0-9A-Z]+-[0-9B]+-C?\d{3,4}$")
    bad = [n for n in Unit.objects.values_list("number", flat=True) if not pattern.match(n)]
    assert bad == []


def test_gross_areas_are_in_realistic_ranges_per_unit_type(seeded, db):
    ranges = {
        row["unit_type"]: (row["low"], row["high"])
        for row in Unit.objects.values("unit_type").annotate(
            low=Min("gross_area"), high=Max("gross_area")
        )
    }
    low, high = ranges["residential"]
    assert low >= 65 and high <= 180
    low, high = ranges["commercial"]
    assert low >= 40 and high <= 300
    assert ranges["parking"] == (Decimal("12.50"), Decimal("12.50"))
    assert "storage" in ranges


def test_the_mixed_estate_has_shops_parking_and_storage_and_some_spaces_have_no_owner(seeded, db):
    types = set(Unit.objects.filter(estate__code="CH").values_list("unit_type", flat=True))
    assert types == {"residential", "commercial", "parking", "storage"}
    parking = Unit.objects.filter(estate__code="CH", unit_type="parking")
    unowned = parking.exclude(relations__role="owner")
    assert 0 < unowned.count() < parking.count()
    assert set(unowned.values_list("occupancy", flat=True)) == {"vacant"}


def test_units_have_handover_and_fee_start_dates_and_a_mix_of_occupancy(seeded, db):
    assert not Unit.objects.filter(handover_date__isnull=True).exists()
    later = [u for u in Unit.objects.all() if u.fee_start_date <= u.handover_date]
    assert later == []
    mix = dict(
        Unit.objects.filter(unit_type="residential")
        .values_list("occupancy")
        .annotate(n=Count("id"))
    )
    assert mix["occupied"] > mix["vacant"] > mix["renovating"] > 0


def test_only_two_estates_have_a_late_fee_clause_at_three_in_ten_thousand_a_day(seeded, db):
    with_clause = ServiceContract.objects.filter(has_late_fee_clause=True)
    assert sorted(with_clause.values_list("estate__code", flat=True)) == ["HY", "LJ"]
    for contract in with_clause:
        assert str(contract.late_fee_daily_rate) == "0.000300"
        assert contract.late_fee_grace_days == 15
        assert contract.late_fee_cap_ratio == 1
    without = ServiceContract.objects.get(estate__code="CH")
    assert without.late_fee_daily_rate is None
    modes = set(ServiceContract.objects.values_list("pricing_mode", flat=True))
    assert modes == {"lump_sum", "commission"}


# --- people -------------------------------------------------------------------------------
def test_every_id_number_passes_its_checksum(seeded, db):
    people = Party.objects.all()
    assert people.count() > 2000
    for party in people:
        if party.kind == Party.Kind.PERSON:
            assert identities.is_valid_id_number(party.id_number), party.id_number
        else:
            assert identities.is_valid_uscc(party.id_number), party.id_number


def test_phones_look_like_mainland_mobiles_and_some_owners_have_a_second_phone(seeded, db):
    mobiles = list(Party.objects.values_list("mobile", flat=True))
    assert all(re.fullmatch(r"1[3-9]\d{9}", m) for m in mobiles)
    assert len(set(mobiles)) == len(mobiles)
    assert Party.objects.exclude(phone_alt="").count() > 200


def test_the_window_finds_an_owner_by_the_last_four_digits_of_the_phone(seeded, db):
    # given a cashier and an owner (bulk-created, so phone_tails had to be filled by the seed)
    cashier = staff("cashier")
    party = Party.objects.filter(estate__code="LJ").order_by("id").first()
    # when
    found = selectors.party_search(cashier, q=party.mobile[-4:])
    # then
    assert party in found


def test_companies_own_shops_and_tenants_are_designated_payers(seeded, db):
    company_owned = UnitParty.objects.filter(
        role="owner", party__kind="company", unit__unit_type="commercial"
    )
    assert company_owned.exists()
    payer = UnitParty.objects.filter(role="tenant", is_payer=True, end_date__isnull=True).first()
    assert selectors.payer_on(payer.unit, payer.start_date) == payer.party


def test_ownership_transfers_in_2026_hand_the_unit_over_the_next_day(seeded, db):
    ended = UnitParty.objects.filter(role="owner", end_date__year=2026)
    assert 2 <= ended.count() <= 10
    for old in ended:
        new = UnitParty.objects.get(unit=old.unit, role="owner", start_date__gt=old.start_date)
        assert new.start_date == old.end_date + timedelta(days=1)
        assert selectors.payer_on(old.unit, old.end_date) == old.party
        assert selectors.payer_on(old.unit, new.start_date) == new.party


def test_owners_have_preferred_channels_and_consents(seeded, db):
    habits = list(Party.objects.values_list("preferred_channels", flat=True))
    assert sum("wechat" in h for h in habits) > len(habits) / 3
    assert any(h == [] for h in habits)  # never asked
    consents = [c for c in Party.objects.values_list("consents", flat=True) if c]
    assert any(c.get("sms") is False for c in consents)
    assert any(c.get("sms") is True for c in consents)


def test_customer_service_and_engineering_wrote_notes_about_owners(seeded, db):
    notes = OwnerNote.objects.all()
    assert {"hardship", "house_quality"} <= set(notes.values_list("category", flat=True))
    authors = set(notes.values_list("author__username", flat=True))
    assert authors == {"customer_service", "engineering"}
    hardship = notes.filter(category="hardship").first()
    assert "collector" in hardship.visible_to


# --- staff --------------------------------------------------------------------------------
KEY_PERMISSION = {
    "cashier": "registry.view_unit",
    "collector": "registry.view_pii",
    "customer_service": "registry.import_registry",
    "engineering": "registry.add_ownernote",
    "security": "registry.add_ownernote",
    "finance": "registry.add_servicecontract",
    "supervisor": "registry.add_estate",
    "auditor": "audit.view_auditevent",
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_one_login_in_its_group_only(seeded, db, client, role):
    # given
    user = staff(role)
    # then
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert not user.is_superuser and not user.is_staff
    assert user.has_perm(KEY_PERMISSION[role])
    assert user.last_name and user.first_name  # a Chinese display name
    # and the home page opens for them
    client.force_login(user)
    assert client.get("/").status_code == 200


def test_nobody_is_a_superuser(seeded, db):
    assert not get_user_model().objects.filter(is_superuser=True).exists()


def test_the_auditor_sees_every_estate_by_permission_and_the_others_by_assignment(seeded, db):
    assert selectors.visible_estate_ids(staff("auditor")) is None
    assert staff("auditor").staff_profile.estates.count() == 0
    all_three = set(Estate.objects.values_list("id", flat=True))
    for role in ROLES:
        if role != "auditor":
            assert selectors.visible_estate_ids(staff(role)) == all_three, role


def test_a_cashier_may_not_see_full_phone_numbers(seeded, db):
    assert not staff("cashier").has_perm("registry.view_pii")
    assert not staff("auditor").has_perm("registry.change_unit")


def test_the_demo_password_passes_the_password_policy():
    validate_password(plan.DEMO_PASSWORD)


def test_a_demo_login_works_through_the_login_page(seeded, db, client):
    # when
    response = client.post(
        "/accounts/login/", {"username": "finance", "password": plan.DEMO_PASSWORD}
    )
    # then
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200


def test_every_estate_has_a_sandbox_wechat_and_alipay_merchant_an_owner_can_pay_through(
    seeded, db, settings
):
    # given the demo's merchants, and the sandbox on (as `make demo` runs it, with DEBUG)
    settings.WUYE_PAY = {"sandbox": True}
    from wuye.billing.models import Charge
    from wuye.online.models import MerchantAccount, PaymentOrder
    from wuye.online.services import order_create

    for estate in Estate.objects.all():
        accounts = MerchantAccount.objects.filter(estate=estate, is_default=True)
        assert sorted(accounts.values_list("provider", flat=True)) == ["alipay", "wechat"]
        assert set(accounts.values_list("mode", flat=True)) == {"sandbox"}
    # when an owner with an open property-fee charge starts paying it by WeChat
    charge = Charge.objects.filter(status="open", fee_item__online_payable=True).first()
    order = order_create(
        party=charge.party, charge_ids=[charge.pk], provider="wechat", kind="native"
    )
    # then the order is placed with the estate's sandbox merchant, waiting for payment
    assert order.status == PaymentOrder.Status.CREATED
    assert order.merchant.estate_id == charge.estate_id and order.amount == charge.outstanding


def test_a_year_was_collected_and_the_books_agree(seeded, db):
    # given the demo's twelve months of bills and their collection
    from wuye.billing.models import Charge
    from wuye.billing.selectors import books_check
    from wuye.payments.models import CashierShift, Payment, Receipt

    # then most of what was billed is collected, some owners are behind, as in real life
    regular = Charge.objects.filter(kind="regular")
    billed = sum(regular.values_list("amount", flat=True), Decimal(0))
    owed = sum(regular.values_list("outstanding", flat=True), Decimal(0))
    assert Decimal("0.75") < (billed - owed) / billed < Decimal("0.97")
    assert regular.filter(status="open").values("party_id").distinct().count() > 100
    # and every payment has its numbered receipt, every shift was closed at the day's end
    # (a use of prepayment, applied automatically when charges fall due, has no receipt: the
    # money had its receipt when it came in)
    money_in = Payment.objects.exclude(channel="prepayment")
    assert money_in.count() > 8000
    assert Receipt.objects.count() == money_in.count()
    channels = set(money_in.values_list("channel", "source"))
    assert channels >= {
        ("wechat", "online"),
        ("alipay", "online"),
        ("transfer", "bank"),
        ("cash", "window"),
        ("pos", "window"),
    }
    assert not CashierShift.objects.filter(status="open").exists()
    assert not Payment.objects.filter(source="window", shift__isnull=True).exists()
    # and some paid a year ahead; late fees only in the estates whose contract has a clause
    assert Charge.objects.filter(period__gt=plan_current_period(), status="paid").exists()
    late = Charge.objects.filter(kind="late_fee")
    assert late.exists()
    assert set(late.values_list("estate__code", flat=True)) < set(
        Estate.objects.values_list("code", flat=True)
    )
    # and the receivable control account equals the open charges in every estate
    assert all(check.ok for check in books_check())


def test_finance_finds_this_months_bank_statement_imported_with_two_lines_to_check(seeded, db):
    from wuye.online.models import TransferStatement

    statement = TransferStatement.objects.get(estate__code="HY")
    outcomes = sorted(statement.lines.values_list("outcome", flat=True))
    assert (statement.lines_total, statement.posted, statement.to_check) == (15, 12, 2)
    assert outcomes == ["debit"] + ["no_reference"] * 2 + ["posted"] * 12
    assert all(x.payment.receipt is not None for x in statement.lines.filter(outcome="posted"))


def plan_current_period() -> str:
    from django.utils import timezone

    return timezone.localdate().strftime("%Y-%m")


# --- idempotent, audited once, deterministic ------------------------------------------------
def test_the_first_run_writes_one_audit_row_per_area_not_one_per_row(seeded, db):
    # the bulk areas write one row each; the fee cycle writes through the apps' services
    bulk = AuditEvent.objects.filter(subject_type="demo.seed")
    assert sorted(bulk.values_list("subject_id", flat=True)) == ["company", "owners", "staff"]
    row = AuditEvent.objects.get(subject_type="demo.seed", subject_id="company")
    assert row.action == "import" and row.after["units"] == Unit.objects.count()


def test_a_second_run_changes_no_counts_and_adds_no_audit_rows(seeded, db):
    # given
    before = counts()
    # when
    report = seed.seed_all()
    # then
    assert counts() == before
    assert all(not any(created.values()) for created in report.values())


def test_a_rerun_after_staff_corrected_an_owners_phone_adds_no_duplicate(seeded, db):
    # given staff corrected a demo owner's mobile (so name and mobile no longer match the plan)
    party = Party.objects.filter(estate__code="CH").order_by("id").first()
    party.mobile = "13900000000"
    party.save()
    before = counts()
    # when
    seed.seed_all()
    # then
    assert counts() == before


def test_the_command_prints_the_logins_and_where_to_open_the_demo(seeded, db):
    out = io.StringIO()
    call_command("seed-demo", stdout=out)
    text = out.getvalue()
    assert "nothing new" in text
    for role in ROLES:
        assert re.search(rf"^\s+{role}\s", text, re.M), role
    assert "收费员" in text and plan.DEMO_PASSWORD in text
    assert "http://127.0.0.1:8000/" in text
    assert "Ready in" not in text  # only `make demo` knows when it started


def test_make_demo_is_told_how_long_it_took_to_be_ready(seeded, db):
    # `make demo` passes the moment it started (before migrate)
    out = io.StringIO()
    call_command("seed-demo", since=time.time() - 42, stdout=out)
    found = re.search(r"^Ready in (\d+\.\d) s \(migrate and seed\)\.$", out.getvalue(), re.M)
    assert found and 42 <= float(found.group(1)) < 120


def test_the_same_seed_gives_the_same_owners_in_another_process(seeded, db):
    # given the first owner as seeded here, and a digest of the whole plan
    first = Party.objects.filter(estate__code="HY").order_by("id").first()
    # when another interpreter, with another hash seed, builds the plan
    other = subprocess.run(
        [sys.executable, "-c", DIGEST],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout.split()
    # then
    assert other[:2] == [first.name, first.mobile]
    here = subprocess.run(
        [sys.executable, "-c", DIGEST],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONHASHSEED": "999", "PATH": ""},
    ).stdout.split()
    assert other == here


REPO = Path(__file__).resolve().parents[3]
DIGEST = """
import hashlib
from wuye.demo import plan
p = plan.people("HY").parties
everything = [(plan.units(e.code), plan.people(e.code)) for e in plan.estates()]
print(p[0].name, p[0].mobile, hashlib.sha256(repr(everything).encode()).hexdigest())
"""
