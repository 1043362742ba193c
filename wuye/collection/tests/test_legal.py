"""Legal cases: approval only after stages 1-3 (shown with their dates); the evidence ZIP
holds every part and its index lists them; filings and signed plans restart the clock."""

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from wuye.collection.limitation_selectors import party_clocks
from wuye.collection.models import CaseStatus, LegalCase
from wuye.collection.services import demands, disputes, legal, plans
from wuye.collection.services.contacts import contact_record
from wuye.core.errors import DomainError
from wuye.registry.models import ServiceContract

from .books import charge, delivered_message
from .test_demand_pdf import pdf_text


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owed(unit, owner):
    return [charge(unit, owner, "2026-09", "300.00"), charge(unit, owner, "2026-10", "300.00")]


def stage_1(case):
    delivered_message(
        case.party,
        channel="sms",
        on=timezone.localdate() - timedelta(days=40),
        address=case.party.mobile,
    )


def stage_2(collector, case):
    contact_record(
        actor=collector,
        party=case.party,
        case=case,
        channel="call",
        outcome="refused",
        said="提醒欠费",
        response="就是不交",
        inbound=True,
    )


def stage_3(collector, case):
    demand = demands.demand_issue(actor=collector, case=case, delivery="hand")
    return demands.demand_deliver(
        actor=collector,
        demand=demand,
        proof=b"signed receipt",
        proof_name="r.jpg",
        delivered_on=timezone.localdate(),
        received_by="张伟",
    )


def test_approval_is_refused_until_stages_1_to_3_happened(
    collector, supervisor, case, owed, open_policy
):
    proposal = legal.legal_propose(
        actor=collector, case=case, kind="litigation", reason="多次沟通拒不缴费，无正当理由"
    )
    assert proposal.stages == {"1": None, "2": None, "3": None}
    # a collector cannot approve at all
    with pytest.raises(DomainError, match="missing permission"):
        legal.legal_approve(actor=collector, legal=proposal)
    # a supervisor is refused while a stage is missing, and told which
    stage_1(case)
    stage_2(collector, case)
    with pytest.raises(DomainError, match="stage 3") as refused:
        legal.legal_approve(actor=supervisor, legal=proposal)
    assert refused.value.code == "stages_missing"
    # once the demand was delivered, approval goes through and records the dates
    stage_3(collector, case)
    approved = legal.legal_approve(actor=supervisor, legal=proposal)
    today = str(timezone.localdate())
    assert approved.status == "approved"
    assert approved.stages["1"]["on"] == str(timezone.localdate() - timedelta(days=40))
    assert approved.stages["2"]["on"] == today and approved.stages["3"]["on"] == today
    case.refresh_from_db()
    assert case.status == CaseStatus.LEGAL


def test_the_proceedings_move_the_status_and_a_filing_restarts_the_clock(
    collector, supervisor, case, owed, open_policy
):
    stage_1(case), stage_2(collector, case), stage_3(collector, case)
    proposal = legal.legal_propose(
        actor=collector, case=case, kind="payment_order", reason="拒不缴费，申请支付令"
    )
    approved = legal.legal_approve(actor=supervisor, legal=proposal)
    with pytest.raises(DomainError, match="case number"):
        legal.legal_update(actor=supervisor, legal=approved, filed_on=timezone.localdate())
    filed = legal.legal_update(
        actor=supervisor,
        legal=approved,
        court="深圳市南山区人民法院",
        case_number="(2026)粤0305民初12345号",
        filed_on=timezone.localdate(),
        costs="50.00",
    )
    assert filed.status == LegalCase.Status.FILED and str(filed.costs) == "50.00"
    today = timezone.localdate()
    kinds = {e.kind for c in party_clocks(case.party, today=today) for e in c.restarts}
    assert "filing" in kinds


def test_the_evidence_zip_contains_every_part_and_its_index_lists_them(
    collector, supervisor, case, owed, open_policy, estate, tmp_path
):
    # given the scanned contract, a published fee standard with its notice, a plan, a dispute
    contract = ServiceContract.objects.get(estate=estate)
    contract.document.save("contract.pdf", ContentFile(b"%PDF contract scan"))
    from wuye.fees.models import FeeStandard

    std = FeeStandard.objects.create(
        estate=estate,
        fee_item=owed[0].fee_item,
        version=1,
        rate="2.80",
        effective_from=date(2026, 1, 1),
        status=FeeStandard.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    std.notice_pdf.save("notice.pdf", ContentFile(b"%PDF notice"))
    plan = plans.plan_draft(
        actor=collector,
        case=case,
        kind="equal",
        count=2,
        first_due=timezone.localdate() + timedelta(days=5),
    )
    plans.plan_sign(
        actor=collector,
        plan=plan,
        content=b"%PDF signed plan",
        name="p.pdf",
        signed_on=timezone.localdate(),
    )
    plans.plan_cancel(actor=collector, plan=plan, reason="业主反悔")
    dispute = disputes.dispute_raise(
        actor=collector,
        party=case.party,
        case=case,
        category="leak",
        description="楼上漏水一直未修",
    )
    disputes.work_order_close(actor=supervisor, order=dispute.work_orders.get(), resolution="已修")
    disputes.dispute_resolve(actor=collector, dispute=dispute, outcome="upheld", note="已回访")
    stage_1(case), stage_2(collector, case), stage_3(collector, case)
    approved = legal.legal_approve(
        actor=supervisor,
        legal=legal.legal_propose(
            actor=collector, case=case, kind="litigation", reason="拒不缴费，无正当理由"
        ),
    )
    # when the evidence file is built
    built = legal.evidence_build(actor=supervisor, legal=approved)
    with built.evidence.open("rb") as fh:
        data = fh.read()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == built.evidence_sha256
    zf = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(zf.read("manifest.json"))
    sections = [p["section"] for p in manifest["parts"]]
    # then every part is there
    expected = [
        "物业服务合同",
        "收费标准",
        "收费公示（物业服务费收费标准 第1版）",
        "欠费明细",
        "对账单",
        "催收记录",
        "服务异议处理记录",
    ]
    for section in expected:
        assert section in sections, section
    assert any(s.startswith("催缴通知书 CJ-HY-") for s in sections)
    assert any(s.startswith("送达凭证 CJ-HY-") for s in sections)
    assert any(s.startswith("分期协议签字件 FQ-HY-") for s in sections)
    assert manifest["missing"] == []
    # each file is in the ZIP with the hash the manifest gives
    for p in manifest["parts"]:
        assert hashlib.sha256(zf.read(p["file"])).hexdigest() == p["sha256"]
    # the contact log part says the hash chain verified
    contact = next(p for p in manifest["parts"] if p["section"] == "催收记录")
    assert "哈希链校验通过" in contact["purpose"]
    # and the index lists every part by its file name
    index = pdf_text(zf.read("00-证据目录.pdf"), tmp_path)
    for p in manifest["parts"]:
        assert p["file"].replace(" ", "") in index


def test_a_signed_plan_restarts_the_clock_of_the_periods_it_covers(collector, case, owed):
    plan = plans.plan_draft(
        actor=collector,
        case=case,
        kind="equal",
        count=2,
        first_due=timezone.localdate() + timedelta(days=5),
    )
    today = timezone.localdate()
    before = {c.period: c.ends_on for c in party_clocks(case.party, today=today)}
    assert before["2026-09"] == date(2029, 9, 28)
    plans.plan_sign(actor=collector, plan=plan, content=b"s", name="s.pdf", signed_on=today)
    after = {c.period: c for c in party_clocks(case.party, today=today)}
    assert after["2026-09"].ends_on == today.replace(year=today.year + 3)
    assert after["2026-09"].restarts[0].kind == "plan_signed"
