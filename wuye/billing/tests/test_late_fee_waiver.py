"""Waiving a late fee (滯納金減免) goes through request and approval like any waiver: the late
fee is then no longer owed, the books and the statement agree, and the principal is untouched."""

import html
from datetime import date
from decimal import Decimal

import pytest

from wuye.billing import services
from wuye.billing.models import Charge, Waiver
from wuye.billing.selectors import party_statement
from wuye.core.errors import PermissionDenied
from wuye.ledger import chart
from wuye.ledger.selectors import account_balance

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def late_fee(owner, property_fee, bill):
    """December billed and 1.95 of late fee assessed on 10 February 2027."""
    bill("2026-12")
    services.late_fee_assess(estate=owner.estate, as_of=date(2027, 2, 10), today=date(2027, 2, 10))
    return Charge.objects.get(kind=Charge.Kind.LATE_FEE)


def test_a_late_fee_is_waived_only_with_a_supervisors_approval(
    owner, late_fee, finance, supervisor, books_balance
):
    # given finance asks to waive the whole late fee
    waiver = services.waiver_request(
        actor=finance, charge=late_fee, amount="1.95", reason="业主首次逾期，经理同意免收"
    )
    # nothing changes until someone else approves; the requester cannot
    late_fee.refresh_from_db()
    assert (late_fee.status, late_fee.outstanding) == (Charge.Status.OPEN, D("1.95"))
    with pytest.raises(PermissionDenied):
        services.waiver_approve(actor=finance, waiver=waiver)
    # when the supervisor approves
    services.waiver_approve(actor=supervisor, waiver=waiver)
    # then the late fee is waived, the principal still owed, and the books agree
    late_fee.refresh_from_db()
    assert (late_fee.status, late_fee.outstanding) == (Charge.Status.WAIVED, D("0.00"))
    principal = late_fee.source
    principal.refresh_from_db()
    assert (principal.status, principal.outstanding) == (Charge.Status.OPEN, D("250.60"))
    assert account_balance(owner.estate, chart.WAIVERS) == D("1.95")
    assert account_balance(owner.estate, chart.LATE_FEE_INCOME) == D("1.95")
    assert books_balance(owner.estate) == (D("250.60"), D("250.60"))
    statement = party_statement(owner)
    assert statement.closing == statement.open_charges == D("250.60")
    (line,) = [x for x in statement.lines if x.kind == "waiver"]
    assert line.credit == D("1.95") and "业主首次逾期" in line.text


def test_the_late_fee_waiver_from_the_pages(client, late_fee, finance, supervisor):
    client.force_login(finance)
    page = html.unescape(client.get("/billing/late-fees/").content.decode())
    assert f'href="/billing/charges/{late_fee.pk}/"' in page
    client.post(f"/billing/charges/{late_fee.pk}/waive/", {"amount": "1.95", "reason": "首次逾期"})
    waiver = Waiver.objects.get()
    client.force_login(supervisor)
    page = html.unescape(
        client.post(
            f"/billing/waivers/{waiver.pk}/decide/", {"decision": "approve"}, follow=True
        ).content.decode()
    )
    assert "Waiver of 1.95 approved." in page
    page = html.unescape(client.get(f"/billing/charges/{late_fee.pk}/").content.decode())
    assert 'id="charge-status">Waived<' in page and 'id="charge-outstanding">0.00<' in page
