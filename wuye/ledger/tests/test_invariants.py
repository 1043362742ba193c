"""Money invariants of the ledger over random sequences of entries and reversals."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from wuye.ledger import chart
from wuye.ledger.models import JournalEntry
from wuye.ledger.selectors import account_balance, trial_balance
from wuye.ledger.services import Line, entry_post, entry_reverse
from wuye.registry.models import Estate

from .helpers import check_deferred_constraints

# leaf accounts: a parent's balance includes its sub-accounts (e.g. 2241.04 待查明款项)
CODES = sorted(c for c in chart.ACCOUNTS if not any(o.startswith(f"{c}.") for o in chart.ACCOUNTS))
START = date(2025, 12, 20)


@st.composite
def balanced_lines(draw) -> list[Line]:
    """2..7 lines: some debits, and their total split over some credits (amounts in fen)."""
    debits = draw(st.lists(st.integers(1, 10_000_000), min_size=1, max_size=4))
    total = sum(debits)
    k = draw(st.integers(1, min(3, total)))
    cuts = []
    if k > 1:
        cuts = sorted(draw(st.sets(st.integers(1, total - 1), min_size=k - 1, max_size=k - 1)))
    credits = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    party = st.none() | st.integers(1, 5)
    lines = [
        Line(draw(st.sampled_from(CODES)), debit=Decimal(c) / 100, party_id=draw(party))
        for c in debits
    ] + [
        Line(draw(st.sampled_from(CODES)), credit=Decimal(c) / 100, party_id=draw(party))
        for c in credits
    ]
    return draw(st.permutations(lines))


operation = st.one_of(
    st.tuples(st.just("post"), st.integers(0, 1), st.integers(0, 40), balanced_lines()),
    st.tuples(st.just("reverse"), st.integers(0, 1000), st.integers(0, 10)),
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None)
@given(operations=st.lists(operation, min_size=1, max_size=10))
def test_any_sequence_of_entries_and_reversals_keeps_every_estate_balanced(operations):
    with transaction.atomic():
        # given two estates
        estates = [Estate.objects.create(code=f"E{i}", name=f"estate {i}") for i in range(2)]
        net: dict[tuple[int, str], Decimal] = defaultdict(Decimal)  # debit - credit
        posted: list[JournalEntry] = []
        # when the operations are posted
        for n, op in enumerate(operations):
            if op[0] == "post":
                _, which, offset, lines = op
                entry = entry_post(
                    estate=estates[which],
                    date=START + timedelta(days=offset),
                    memo=f"op {n}",
                    lines=lines,
                    idempotency_key=f"op-{n}",
                )
                for line in lines:
                    net[estates[which].pk, line.account] += line.debit - line.credit
                posted.append(entry)
                continue
            candidates = [e for e in posted if e.reverses_id is None and not _reversed(e)]
            if not candidates:
                continue
            original = candidates[op[1] % len(candidates)]
            reversal = entry_reverse(
                entry=original,
                date=original.date + timedelta(days=op[2]),
                idempotency_key=f"op-{n}",
            )
            for p in original.postings.select_related("account"):
                net[original.estate_id, p.account.code] -= p.debit - p.credit
            posted.append(reversal)
        # then every estate's trial balance balances and agrees with the lines posted
        for estate in estates:
            report = trial_balance([estate.pk], START + timedelta(days=10), date(2026, 12, 31))
            assert report.totals["debits"] == report.totals["credits"]
            assert report.is_balanced
            closing = {row.code: row.closing for row in report.rows}
            for code in CODES:
                expected = net.get((estate.pk, code), Decimal(0))
                assert closing.get(code, Decimal(0)) == expected
                kind_sign = 1 if chart.ACCOUNTS[code][1] in ("asset", "expense") else -1
                assert account_balance(estate, code) == kind_sign * expected
            # voucher numbers run 1..n per year
            for year in (2025, 2026):
                numbers = sorted(
                    JournalEntry.objects.filter(estate=estate, voucher_year=year).values_list(
                        "voucher_no", flat=True
                    )
                )
                assert numbers == list(range(1, len(numbers) + 1))
        # and each reversed entry nets to zero with its reversal, account by account
        for reversal in JournalEntry.objects.filter(reverses__isnull=False):
            sums: dict[int, Decimal] = defaultdict(Decimal)
            for entry in (reversal, reversal.reverses):
                for p in entry.postings.all():
                    sums[p.account_id] += p.debit - p.credit
            assert set(sums.values()) == {Decimal("0.00")}
        check_deferred_constraints()  # PostgreSQL agrees (no-op elsewhere)
        transaction.set_rollback(True)


def _reversed(entry: JournalEntry) -> bool:
    return JournalEntry.objects.filter(reverses=entry).exists()
