"""The collector's month in the demo (issues 14 and 15): what a collector and a supervisor see
after `wuye seed-demo`."""

from django.db.models import Count
from django.utils import timezone

from wuye.collection.models import (
    ArrearsCase,
    CallScript,
    DunningPolicy,
    Escalation,
    FormalDemand,
    InstallmentPlan,
    PromiseToPay,
)
from wuye.collection.models.disputes import Dispute, WorkOrder
from wuye.collection.models.legal import LegalCase
from wuye.registry.models import Estate


def test_every_estate_has_the_default_policy_and_call_scripts(seeded, db):
    for estate in Estate.objects.all():
        policy = DunningPolicy.objects.get(estate=estate)
        assert list(policy.stages.order_by("number").values_list("number", flat=True)) == [
            1,
            2,
            3,
            4,
        ]
        scripts = CallScript.objects.filter(estate=estate)
        assert {s.stage_number for s in scripts} >= {2, 3}
        assert {s.reason for s in scripts} >= {"dispute", "hardship"}


def test_cases_stand_at_every_stage_with_every_reason(seeded, db):
    open_cases = ArrearsCase.objects.exclude(status="closed")
    assert set(open_cases.values_list("stage_number", flat=True)) == {1, 2, 3, 4}
    reasons = set(open_cases.exclude(reason="").values_list("reason", flat=True))
    assert reasons == {"forgot", "dispute", "hardship", "malicious", "unreachable", "other"}
    statuses = set(open_cases.values_list("status", flat=True))
    assert statuses >= {"open", "promised", "installment", "disputed", "legal"}


def test_the_contact_log_holds_weeks_of_calls_and_its_chain_verifies(seeded, db):
    from wuye.collection.models import ContactLog
    from wuye.collection.services.contacts import contacts_verify

    staff_contacts = ContactLog.objects.filter(staff__isnull=False)
    days = {timezone.localdate(at) for at in staff_contacts.values_list("at", flat=True)}
    assert len(days) >= 10 and max(days) - min(days) >= timezone.timedelta(days=14)
    assert set(staff_contacts.values_list("channel", flat=True)) >= {"call", "visit"}
    assert contacts_verify() == []


def test_promises_were_kept_broken_and_one_is_pending(seeded, db):
    counts = dict(PromiseToPay.objects.values_list("status").annotate(n=Count("id")))
    assert counts.get("kept", 0) >= 1 and counts.get("broken", 0) >= 1
    assert counts.get("pending", 0) >= 1
    broken = PromiseToPay.objects.filter(status="broken").select_related("case").first()
    assert broken.case.broken_promises >= 1


def test_a_collector_escalated_a_heated_call_to_the_supervisor(seeded, db):
    manual = Escalation.objects.filter(kind="manual")
    assert manual.exists()
    assert "情绪激动" in manual.first().note


def test_an_installment_plan_is_kept_and_another_was_missed(seeded, db):
    plans = InstallmentPlan.objects.all()
    assert set(plans.values_list("status", flat=True)) >= {"active", "broken"}
    for plan in plans:
        assert plan.signed_sha256 and plan.approved_by_id
    broken = plans.filter(status="broken").first()
    assert broken.case.status != "installment"  # the missed plan reopened the case


def test_a_dispute_went_to_engineering_and_a_fixed_one_was_called_back(seeded, db):
    from wuye.collection.models import ContactLog

    assert WorkOrder.objects.filter(department="engineering", status="open").exists()
    closed = WorkOrder.objects.filter(status="closed").select_related("dispute").first()
    assert closed is not None and closed.dispute.status == "resolved"
    assert ContactLog.objects.filter(
        party_id=closed.dispute.party_id, said__contains="回访"
    ).exists()
    assert Dispute.objects.filter(status="open").exists()


def test_demands_were_delivered_by_mail_and_by_hand_with_their_proof(seeded, db):
    from wuye.collection.services.demands import demand_proof_verify

    delivered = FormalDemand.objects.filter(status="delivered")
    assert set(delivered.values_list("delivery", flat=True)) == {"registered", "hand"}
    assert delivered.filter(delivery="registered").exclude(tracking_number="").exists()
    assert all(demand_proof_verify(d) for d in delivered)


def test_one_lawsuit_is_filed_with_its_evidence_file(seeded, db):
    legal = LegalCase.objects.get()
    assert legal.case.stage_number == 4 and legal.case.reason == "malicious"
    assert legal.case_number and legal.filed_on and legal.hearing_on
    assert all(legal.stages.get(n) for n in ("1", "2", "3"))
    assert legal.evidence_sha256


def test_old_arrears_near_and_past_their_limitation_date(seeded, db):
    from wuye.collection.limitation_selectors import periods_ending_within

    today = timezone.localdate()
    near = [row for e in Estate.objects.all() for row in periods_ending_within(e, today=today)]
    barred = [
        row
        for e in Estate.objects.all()
        for row in periods_ending_within(e, today=today, barred=True)
    ]
    assert near and barred
