"""The owner's dispute request in the portal opens a collection dispute and its work order,
and pauses dunning on the owner's case (issue 15 §2)."""

from datetime import date

from django.utils import timezone

from wuye.collection.models import ArrearsCase, CaseStatus, Dispute, WorkOrder
from wuye.portal.services import request_raise


def test_a_dispute_from_the_portal_opens_one_dispute_and_work_order(owner):
    case = ArrearsCase.objects.create(
        estate=owner.estate,
        party=owner,
        opened_on=timezone.localdate(),
        amount=500,
        oldest_due_date=date(2026, 1, 1),
    )
    request = request_raise(party=owner, kind="dispute", text="停车场灯坏了一个月")
    dispute = Dispute.objects.get(portal_request_id=request.pk)
    assert dispute.source == "portal" and dispute.case == case
    assert WorkOrder.objects.filter(dispute=dispute).count() == 1
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPUTED
    # a hardship request is no dispute
    request_raise(party=owner, kind="hardship", text="失业了，想分期缴纳")
    assert Dispute.objects.count() == 1
