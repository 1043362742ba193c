"""Writes the demo company (`wuye seed-demo`): one function per area, run in this order.

1. `seed_company()` — estates, buildings, units, one service contract per estate.
2. `seed_staff()` — one login per role (wuye.accounts.roles.ROLES), assigned to the estates.
3. `seed_owners()` — owners, tenants and payers, who owns or rents what (with the 2026
   transfers), and the notes staff wrote about owners (needs the staff of step 2).
4. `seed_fees()` — fee items and filed, approved, published standards (with their notice
   PDFs) per estate, and two approved vacancy discounts.
   `seed_merchants()` — a sandbox WeChat Pay and Alipay merchant per estate (online payments).
5. `seed_history()` (`wuye.demo.history`) — a year: for each of the twelve months up to the
   current one, the bill runs, then the month's payments (online, bank, the window's days),
   each party by its habit and the season (issue 16's dashboard story).
6. `seed_waivers()` — two waivers on owners with a house-quality dispute.
7. `seed_late_fees()` — late fees on what is still unpaid, where the contract has a clause.
8. `seed_messages()` — the current month's bill-notice campaign of one estate (outbox rows).
9. `seed_statement()` — this month's first bank statement of one estate, imported: transfers
   posted by payment reference, two waiting for staff.
10. `seed_collection()` (`wuye.demo.collection_demo`) — the collectors' last weeks (issues 14
    and 15): policies, scripts, three dunning runs, contacts, promises, plans, disputes,
    demands, a lawsuit, old arrears near their limitation date.
11. `seed_reports()` — the reports' summary cells brought up to date.

Steps 1-3 are bulk loads (below). Steps 4-10 go through the apps' own services instead, so
that the ledger, receipts and audit trail are real; where a service has a set-wise form it is
used (bill runs, `payments_take` for a day's online money and for the window's slips, the
notice campaign), and the history's reports' deltas are written once at its end
(`summaries.batched`), which is what keeps `make demo` under issue 13's 90 seconds (`python -m
bench demo`). `seed_all` prints each step's seconds, the command the total and, from `make
demo`, the time to ready including migrate.

An area adds itself by appending `(name, function)` to `STEPS`. Each function:

- is one transaction and returns what it created, as `{"units": 2896, ...}`;
- is idempotent: it looks up what exists by natural key (estate code, building code, unit
  number, party (estate, name, mobile) or payment reference, username, contract number, ...)
  and creates only what is missing, so a second run creates nothing and writes no audit row,
  even after staff have edited the demo data;
- writes in bulk (`bulk_create`) and one audit row summarising what it created (action
  `import`, subject `demo.seed`), not one per row;
- takes its data from `wuye.demo.plan` (deterministic, fixed seed), so every machine gets the
  same company. An area whose data depends on the date (billing of past months) should anchor
  on fixed demo dates or take `today` explicitly, and stay idempotent on a later day.

The seed is a bulk loader like an import: it writes with the ORM directly rather than through
the per-row registry services, which would write thousands of audit rows.
"""

import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from wuye.accounts.roles import ROLE_LABELS, ROLES, sync_roles
from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.core.errors import DomainError
from wuye.online.models import MerchantAccount
from wuye.online.services import sandbox_merchants_ensure
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
from wuye.reports import summaries

from . import collection_demo, cycle, history, plan

BATCH = 500
Created = dict[str, int]


def _audit_seed(area: str, created: Counter) -> None:
    """One audit row for everything an area created; none when it created nothing."""
    created = Counter({k: v for k, v in created.items() if v})
    if not created:
        return
    audit_record(
        actor=None,
        action=AuditEvent.Action.IMPORT,
        subject_type="demo.seed",
        subject_id=area,
        summary=f"demo seed ({area}): " + ", ".join(f"{n} {k}" for k, n in created.items()),
        after=dict(created),
    )


def _estate(code: str) -> Estate:
    try:
        return Estate.objects.get(code=code)
    except Estate.DoesNotExist as exc:
        raise DomainError(f"estate {code} is missing: run seed_company first") from exc


# --- 1. company ---------------------------------------------------------------------------
@transaction.atomic
def seed_company() -> Created:
    """Estates, buildings, units and contracts."""
    created: Counter = Counter()
    for ep in plan.estates():
        estate, new = Estate.objects.get_or_create(
            code=ep.code,
            defaults={
                "name": ep.name,
                "address": ep.address,
                "hotline": ep.hotline,
                "company_name": ep.company_name,
            },
        )
        created["estates"] += new

        have = set(Building.objects.filter(estate=estate).values_list("code", flat=True))
        buildings = [
            Building(estate=estate, code=b.code, name=b.name, floors=b.floors)
            for b in ep.buildings
            if b.code not in have
        ]
        Building.objects.bulk_create(buildings)
        created["buildings"] += len(buildings)

        building_ids = dict(Building.objects.filter(estate=estate).values_list("code", "id"))
        have = set(Unit.objects.filter(estate=estate).values_list("number", flat=True))
        units = [
            Unit(
                estate=estate,
                building_id=building_ids[u.building_code],
                number=u.number,
                entrance=u.entrance,
                floor=u.floor,
                gross_area=u.gross_area,
                unit_type=u.unit_type,
                handover_date=u.handover_date,
                fee_start_date=u.fee_start_date,
                occupancy=u.occupancy,
            )
            for u in plan.units(ep.code)
            if u.number not in have
        ]
        Unit.objects.bulk_create(units, batch_size=BATCH)
        created["units"] += len(units)

        c = ep.contract
        clause = c.has_late_fee_clause
        _, new = ServiceContract.objects.get_or_create(
            estate=estate,
            number=c.number,
            defaults={
                "signed_on": c.signed_on,
                "start_date": c.start_date,
                "end_date": c.end_date,
                "pricing_mode": c.pricing_mode,
                "commission_rate": c.commission_rate,
                "has_late_fee_clause": clause,
                "late_fee_daily_rate": plan.LATE_FEE_DAILY_RATE if clause else None,
                "late_fee_grace_days": plan.LATE_FEE_GRACE_DAYS if clause else 0,
                "late_fee_cap_ratio": plan.LATE_FEE_CAP_RATIO,
            },
        )
        created["contracts"] += new
    _audit_seed("company", created)
    return dict(created)


# --- 2. staff -----------------------------------------------------------------------------
@transaction.atomic
def seed_staff() -> Created:
    """One login per role, in that role's group only (no superuser). A role that may see every
    estate (`registry.access_all_estates`) gets no estate list; every other role is assigned
    to the three demo estates. An existing user is left as it is (password included)."""
    User = get_user_model()
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    if len(groups) < len(ROLES):  # a database migrated before a role was added
        sync_roles()
        groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    estates = list(Estate.objects.filter(code__in=[e.code for e in plan.estates()]))
    have = set(
        User.objects.filter(username__in=[s.username for s in plan.STAFF]).values_list(
            "username", flat=True
        )
    )
    created: Counter = Counter()
    password_hash = ""
    for staff in plan.STAFF:
        if staff.username in have:
            continue
        user = User(username=staff.username, first_name=staff.first_name, last_name=staff.last_name)
        validate_password(plan.DEMO_PASSWORD, user=user)
        # Hash once: a password hash costs ~0.3 s, and every demo login shares the password.
        password_hash = password_hash or make_password(plan.DEMO_PASSWORD)
        user.password = password_hash
        user.save()
        group = groups[staff.role]
        user.groups.add(group)
        profile = StaffProfile.objects.create(user=user)
        sees_all = group.permissions.filter(
            content_type__app_label="registry", codename="access_all_estates"
        ).exists()
        if not sees_all:
            profile.estates.set(estates)
        created["users"] += 1
    _audit_seed("staff", created)
    return dict(created)


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role in Chinese, password) of each demo login, in the order of ROLES."""
    return [(s.username, ROLE_LABELS.get(s.role, s.role), plan.DEMO_PASSWORD) for s in plan.STAFF]


# --- 3. owners ----------------------------------------------------------------------------
def _party(estate: Estate, p: plan.PartyPlan) -> Party:
    return Party(
        estate=estate,
        name=p.name,
        kind=p.kind,
        mobile=p.mobile,
        phone_alt=p.phone_alt,
        # Party.save() fills this; bulk_create does not call save()
        phone_tails=" ".join(n[-4:] for n in (p.mobile, p.phone_alt) if n),
        email=p.email,
        id_number=p.id_number,
        mailing_address=p.mailing_address,
        wechat_openid=p.wechat_openid,
        preferred_channels=list(p.preferred_channels),
        consents=dict(p.consents),
        payment_ref=p.payment_ref,
    )


@transaction.atomic
def seed_owners() -> Created:
    """Owners, tenants and designated payers, their units over time, and owner notes."""
    User = get_user_model()
    authors = {
        u.username: u for u in User.objects.filter(username__in=[s.username for s in plan.STAFF])
    }
    role_of = {s.username: s.role for s in plan.STAFF}
    created: Counter = Counter()
    for ep in plan.estates():
        estate = _estate(ep.code)
        people = plan.people(ep.code)

        # A party is known by (name, mobile) or by its payment reference, which never changes:
        # an owner whose phone staff corrected since the last run is not seeded again.
        existing = Party.objects.filter(estate=estate).order_by("-id")
        by_key = {(n, m): pk for pk, n, m in existing.values_list("id", "name", "mobile")}
        by_ref = dict(existing.values_list("payment_ref", "id"))
        parties = [
            _party(estate, p)
            for p in people.parties
            if p.key not in by_key and p.payment_ref not in by_ref
        ]
        Party.objects.bulk_create(parties, batch_size=BATCH)
        created["parties"] += len(parties)

        by_ref.update(
            Party.objects.filter(payment_ref__in=[p.payment_ref for p in parties]).values_list(
                "payment_ref", "id"
            )
        )
        party_ids = {p.key: by_ref.get(p.payment_ref) or by_key[p.key] for p in people.parties}
        unit_ids = dict(Unit.objects.filter(estate=estate).values_list("number", "id"))
        have = set(
            UnitParty.objects.filter(estate=estate).values_list(
                "unit_id", "party_id", "role", "start_date"
            )
        )
        relations = []
        for r in people.relations:
            unit_id, party_id = unit_ids[r.unit_number], party_ids[r.party]
            if (unit_id, party_id, r.role, r.start_date) in have:
                continue
            relations.append(
                UnitParty(
                    estate=estate,
                    unit_id=unit_id,
                    party_id=party_id,
                    role=r.role,
                    start_date=r.start_date,
                    end_date=r.end_date,
                    is_payer=r.is_payer,
                )
            )
        UnitParty.objects.bulk_create(relations, batch_size=BATCH)
        created["relations"] += len(relations)

        have = set(
            OwnerNote.objects.filter(estate=estate).values_list("party_id", "category", "text")
        )
        notes = []
        for n in people.notes:
            party_id = party_ids[n.party]
            if (party_id, n.category, n.text) in have:
                continue
            if n.author not in authors:
                raise DomainError(f"staff user {n.author} is missing: run seed_staff first")
            notes.append(
                OwnerNote(
                    estate=estate,
                    party_id=party_id,
                    unit_id=unit_ids[n.unit_number],
                    category=n.category,
                    text=n.text,
                    author=authors[n.author],
                    author_role=role_of[n.author],
                    visible_to=list(n.visible_to),
                )
            )
        OwnerNote.objects.bulk_create(notes)
        created["notes"] += len(notes)
    _audit_seed("owners", created)
    return dict(created)


def seed_merchants() -> Created:
    """A sandbox WeChat Pay and Alipay merchant account per estate, so the demo's owners can
    pay online (offline, through the sandbox gateway) and the window can scan payment codes."""
    created = Counter()
    for estate in Estate.objects.order_by("code"):
        before = MerchantAccount.objects.filter(estate=estate).count()
        sandbox_merchants_ensure(estate=estate)
        created["merchant accounts"] += (
            MerchantAccount.objects.filter(estate=estate).count() - before
        )
    return dict(created)


def seed_reports() -> Created:
    """Fold the reports' pending deltas into the summary cells (what the scheduler would do
    within a minute), so the first view of the dashboard reads the cells alone."""
    folded = 0
    while taken := summaries.refresh():
        folded += taken
    return {"summary deltas folded": folded}


# --- all ----------------------------------------------------------------------------------
STEPS: list[tuple[str, Callable[[], Created]]] = [
    ("company", seed_company),
    ("staff", seed_staff),
    ("owners", seed_owners),
    ("fees", cycle.seed_fees),
    ("merchants", seed_merchants),
    # A year of bill runs and payments through the apps' own services, set-wise (history.py)
    ("history", history.seed_history),
    ("waivers", cycle.seed_waivers),
    ("late fees", cycle.seed_late_fees),
    ("messages", cycle.seed_messages),
    ("bank statement", cycle.seed_statement),
    ("collection", collection_demo.seed_collection),
    ("reports", seed_reports),
]


def seed_all(stdout: TextIO | None = None) -> dict[str, Created]:
    """Run every area in order; report what each created, and how long it took, on `stdout`
    (the seconds are the wall clock: issue 13 asks for `make demo` in under 90 s)."""
    report: dict[str, Created] = {}
    for name, step in STEPS:
        started = time.perf_counter()
        created = step()
        report[name] = created
        if stdout is not None:
            made = ", ".join(f"{n} {k}" for k, n in created.items() if n) or "nothing new"
            stdout.write(f"{name}: {made} ({time.perf_counter() - started:.1f} s)\n")
    return report
