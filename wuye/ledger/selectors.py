"""Reads of the general ledger. Every read names its estates; views pass only the estates the
user may see (`wuye.registry.selectors.visible_estate_ids`)."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date as Date
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from wuye.core.errors import DomainError
from wuye.core.money import ZERO, MoneySum

from . import chart
from .models import Account, JournalEntry, Posting


def _estate_id(estate) -> int:
    return estate.pk if hasattr(estate, "pk") else int(estate)


def _sums(qs: QuerySet) -> tuple[Decimal, Decimal]:
    totals = qs.aggregate(debit=MoneySum("debit"), credit=MoneySum("credit"))
    return totals["debit"], totals["credit"]


def account_balance(estate, code: str, upto: Date | None = None) -> Decimal:
    """The balance of account `code` and its sub-accounts in `estate`, on the account's normal
    side (asset, expense: debits - credits; liability, income: credits - debits), counting
    postings dated up to and including `upto` (all when None)."""
    accounts = Account.objects.filter(Q(code=code) | Q(code__startswith=f"{code}."))
    kinds = set(accounts.values_list("kind", flat=True))
    if not kinds:
        if code not in chart.ACCOUNTS:
            raise DomainError(_("unknown account %(code)s") % {"code": code}, field="code")
        kinds = {chart.ACCOUNTS[code][1]}
    qs = Posting.objects.filter(estate_id=_estate_id(estate), account__in=accounts)
    if upto is not None:
        qs = qs.filter(date__lte=upto)
    debit, credit = _sums(qs)
    debit_normal = kinds.pop() in (Account.Kind.ASSET, Account.Kind.EXPENSE)
    return debit - credit if debit_normal else credit - debit


def party_receivable_gl(estate, party_id: int, upto: Date | None = None) -> Decimal:
    """What the receivable control account says `party_id` owes in `estate` (debits - credits of
    the postings to `chart.RECEIVABLE` that name the party)."""
    qs = Posting.objects.filter(
        estate_id=_estate_id(estate), account__code=chart.RECEIVABLE, party_id=party_id
    )
    if upto is not None:
        qs = qs.filter(date__lte=upto)
    debit, credit = _sums(qs)
    return debit - credit


def receivable_by_party(estate, upto: Date | None = None) -> dict[int | None, Decimal]:
    """The receivable control account of `estate` per party (None: postings naming no party),
    for comparing with the subledger in one query."""
    qs = Posting.objects.filter(estate_id=_estate_id(estate), account__code=chart.RECEIVABLE)
    if upto is not None:
        qs = qs.filter(date__lte=upto)
    rows = qs.values("party_id").annotate(dr=MoneySum("debit"), cr=MoneySum("credit")).order_by()
    return {row["party_id"]: row["dr"] - row["cr"] for row in rows}


@dataclass(frozen=True)
class TrialBalanceRow:
    """One account of a trial balance (科目余额表). `opening` and `closing` are net balances,
    positive on the debit side; the *_debit / *_credit properties split them into columns."""

    code: str
    name: str
    kind: str
    opening: Decimal
    debits: Decimal
    credits: Decimal

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debits - self.credits

    @property
    def opening_debit(self) -> Decimal:
        return max(self.opening, ZERO)

    @property
    def opening_credit(self) -> Decimal:
        return max(-self.opening, ZERO)

    @property
    def closing_debit(self) -> Decimal:
        return max(self.closing, ZERO)

    @property
    def closing_credit(self) -> Decimal:
        return max(-self.closing, ZERO)


@dataclass(frozen=True)
class TrialBalance:
    """Rows per account plus column totals; balanced books have every debit column equal to its
    credit column."""

    rows: list[TrialBalanceRow]
    date_from: Date | None = None
    date_to: Date | None = None
    totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def is_balanced(self) -> bool:
        t = self.totals
        return (
            t["opening_debit"] == t["opening_credit"]
            and t["debits"] == t["credits"]
            and t["closing_debit"] == t["closing_credit"]
        )


TOTAL_COLUMNS = (
    "opening_debit",
    "opening_credit",
    "debits",
    "credits",
    "closing_debit",
    "closing_credit",
)


def trial_balance(
    estate_ids: Iterable[int] | None,
    date_from: Date | None = None,
    date_to: Date | None = None,
) -> TrialBalance:
    """Per account of the estates `estate_ids` (None: every estate): the balance before
    `date_from`, the debits and credits dated `date_from`..`date_to`, the balance at the end."""
    qs = Posting.objects.all()
    if estate_ids is not None:
        qs = qs.filter(estate_id__in=list(estate_ids))
    if date_to is not None:
        qs = qs.filter(date__lte=date_to)
    sums: dict = {
        "debits": MoneySum("debit"),
        "credits": MoneySum("credit"),
    }
    if date_from is not None:
        before, during = Q(date__lt=date_from), Q(date__gte=date_from)
        sums = {
            "opening_dr": MoneySum("debit", filter=before),
            "opening_cr": MoneySum("credit", filter=before),
            "debits": MoneySum("debit", filter=during),
            "credits": MoneySum("credit", filter=during),
        }
    rows_by_account = qs.values("account_id").annotate(**sums).order_by()
    by_account = {row["account_id"]: row for row in rows_by_account}
    accounts = Account.objects.filter(pk__in=by_account).order_by("code")
    rows = [
        TrialBalanceRow(
            code=a.code,
            name=a.name,
            kind=a.kind,
            opening=by_account[a.pk].get("opening_dr", ZERO)
            - by_account[a.pk].get("opening_cr", ZERO),
            debits=by_account[a.pk]["debits"],
            credits=by_account[a.pk]["credits"],
        )
        for a in accounts
    ]
    totals = {c: sum((getattr(r, c) for r in rows), ZERO) for c in TOTAL_COLUMNS}
    return TrialBalance(rows=rows, date_from=date_from, date_to=date_to, totals=totals)


def journal(
    estate_ids: Iterable[int] | None,
    date_from: Date | None = None,
    date_to: Date | None = None,
    q: str = "",
) -> QuerySet[JournalEntry]:
    """Journal entries of `estate_ids` (None: all) with their postings and accounts."""
    qs = JournalEntry.objects.select_related("estate", "created_by", "reverses")
    if estate_ids is not None:
        qs = qs.filter(estate_id__in=list(estate_ids))
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    if q:
        qs = qs.filter(Q(memo__icontains=q) | Q(source_id=q) | Q(source_type=q))
    return qs.prefetch_related("postings__account", "reversed_by")


def voucher_rows(
    *, estate_id: int, date_from: Date, date_to: Date
) -> Iterator[tuple[Date, int, str, str, str, Decimal, Decimal]]:
    """One row per posting for a voucher export, in voucher order: date, voucher number,
    summary, account code, account name, debit, credit. Streams (no full load in memory)."""
    qs = (
        Posting.objects.filter(estate_id=estate_id, date__gte=date_from, date__lte=date_to)
        .order_by("entry__voucher_year", "entry__voucher_no", "id")
        .values_list(
            "date",
            "entry__voucher_no",
            "entry__memo",
            "account__code",
            "account__name",
            "debit",
            "credit",
        )
    )
    return qs.iterator(chunk_size=2000)


def period_closes(estate_ids) -> QuerySet:
    """The closed accounting periods of these estates, newest first."""
    from .models import PeriodClose

    return (
        PeriodClose.objects.filter(estate_id__in=list(estate_ids or []))
        .select_related("estate", "closed_by")
        .order_by("-month", "estate__code")
    )
