"""Legal cases (诉讼 / 仲裁 / 支付令): the last resort, and its evidence file.

Flow: a collector proposes (`legal_propose`) with the reason; the system looks up the three
earlier stages of DESIGN.md §5 and shows them with their dates (`earlier_stages`): 1, a
reminder that reached the owner (message sent or delivered); 2, a call or visit by staff;
3, a formal demand delivered with its proof. A supervisor approves (`legal_approve`) only
when all three happened -- the approval checks again, on the day -- which holds the case
(status `legal`). `legal_update` then records the court or arbitration number, the filing,
hearing and judgment dates, the judgment, enforcement and costs; its status follows the
facts recorded. `evidence_build` writes the evidence ZIP (`wuye.collection.evidence`).
"""

from datetime import date, datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.audit.services import audit_record, snapshot
from wuye.billing.models import Charge
from wuye.core import pdf
from wuye.core.errors import DomainError
from wuye.core.money import ZERO, money
from wuye.notifications.models import Message, Purpose
from wuye.registry.services import require_estate, require_perm

from .. import evidence
from ..limitation_selectors import party_clocks
from ..models import (
    ArrearsCase,
    CaseStatus,
    ContactLog,
    Dispute,
    FormalDemand,
    HoldKind,
    InstallmentPlan,
    LegalCase,
)
from ._resolution import hold, set_case_status, sha256, user_or_none

STAGE_NAMES = {
    "1": "提醒（短信/微信/应用消息）",
    "2": "沟通（电话或上门）",
    "3": "正式催缴（催缴通知书送达）",
}
# The same on pages and in refusals, in the user's language.
STAGE_LABELS = {
    "1": gettext_lazy("Reminder (SMS, WeChat or app message)"),
    "2": gettext_lazy("Contact (phone call or visit)"),
    "3": gettext_lazy("Formal demand delivered"),
}
STAFF_CONTACT_CHANNELS = ["call", "visit", "in_person"]


def _source(legal: LegalCase) -> str:
    return f"collection.legalcase:{legal.pk}"


def earlier_stages(case: ArrearsCase) -> dict[str, dict | None]:
    """{"1": {"on": "2026-10-02", "what": ...} or None, "2": ..., "3": ...}: the first
    evidence of each stage on record for the case's party."""
    party_id = case.party_id
    reminder = (
        Message.objects.filter(
            party_id=party_id,
            purpose__in=[Purpose.REMINDER, Purpose.FORMAL_DEMAND],
            status__in=[Message.Status.SENT, Message.Status.DELIVERED],
        )
        .exclude(channel="letter")
        .order_by("sent_at", "id")
        .first()
    )
    call = (
        ContactLog.objects.filter(
            party_id=party_id, channel__in=STAFF_CONTACT_CHANNELS, staff__isnull=False
        )
        .exclude(outcome=ContactLog.Outcome.SUPPRESSED)
        .order_by("at", "id")
        .first()
    )
    demand = (
        FormalDemand.objects.filter(party_id=party_id, status=FormalDemand.Status.DELIVERED)
        .order_by("delivered_on", "id")
        .first()
    )
    return {
        "1": None
        if reminder is None
        else {
            "on": str(timezone.localdate(reminder.sent_at or reminder.created_at)),
            "what": f"{reminder.get_channel_display()} #{reminder.pk}",
        },
        "2": None
        if call is None
        else {
            "on": str(timezone.localdate(call.at)),
            "what": f"{call.get_channel_display()}: {call.get_outcome_display()}",
        },
        "3": None
        if demand is None
        else {
            "on": str(demand.delivered_on),
            "what": f"{demand.number} ({demand.get_delivery_display()})",
        },
    }


def missing_stages(stages: dict) -> list[str]:
    return [number for number in ("1", "2", "3") if not stages.get(number)]


@transaction.atomic
def legal_propose(*, actor, case: ArrearsCase, kind: str, reason: str) -> LegalCase:
    """A collector proposes court (or arbitration, or a payment order) for the case."""
    require_perm(actor, "collection.add_legalcase")
    require_estate(actor, case.estate_id)
    if case.status == CaseStatus.CLOSED:
        raise DomainError(_("the case is closed"), field="case")
    if kind not in LegalCase.Kind.values:
        raise DomainError(_("choose a lawsuit, arbitration or a payment order"), field="kind")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise DomainError(
            _("say why court is the last resort (at least 10 characters)"), field="reason"
        )
    live = [LegalCase.Status.REJECTED, LegalCase.Status.CLOSED]
    if LegalCase.objects.filter(case=case).exclude(status__in=live).exists():
        raise DomainError(_("the case already has a legal case"), field="case")
    owed = Charge.objects.filter(
        party_id=case.party_id, status=Charge.Status.OPEN, due_date__lt=timezone.localdate()
    ).values_list("outstanding", flat=True)
    legal = LegalCase.objects.create(
        estate_id=case.estate_id,
        case=case,
        party_id=case.party_id,
        kind=kind,
        amount_claimed=money(sum(owed, ZERO)),
        reason=reason,
        stages=earlier_stages(case),
        proposed_by=user_or_none(actor),
        proposed_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="collection.legal_propose",
        subject=legal,
        after={"kind": kind, "stages": legal.stages, "amount": legal.amount_claimed},
    )
    return legal


@transaction.atomic
def legal_approve(*, actor, legal: LegalCase, note: str = "") -> LegalCase:
    """A supervisor approves: refused unless stages 1-3 are on record."""
    require_perm(actor, "collection.approve_legalcase")
    require_estate(actor, legal.estate_id)
    legal = LegalCase.objects.select_for_update().get(pk=legal.pk)
    if legal.status != LegalCase.Status.PROPOSED:
        raise DomainError(_("only a proposed legal case can be approved"), field="status")
    stages = earlier_stages(legal.case)
    missing = missing_stages(stages)
    if missing:
        raise DomainError(
            _("court is the last resort: stage %(stages)s has not happened yet")
            % {"stages": ", ".join(f"{n} {STAGE_LABELS[n]}" for n in missing)},
            field="stages",
            code="stages_missing",
        )
    legal.stages = stages
    legal.status = LegalCase.Status.APPROVED
    legal.decided_by = user_or_none(actor)
    legal.decided_at = timezone.now()
    legal.decision_note = note.strip()[:255]
    legal.save()
    hold(
        case=legal.case,
        kind=HoldKind.LEGAL,
        reason=_("legal case #%(id)s") % {"id": legal.pk},
        source=_source(legal),
    )
    set_case_status(legal.case, CaseStatus.LEGAL)
    audit_record(
        actor=actor, action="collection.legal_approve", subject=legal, after={"stages": stages}
    )
    return legal


@transaction.atomic
def legal_reject(*, actor, legal: LegalCase, note: str) -> LegalCase:
    require_perm(actor, "collection.approve_legalcase")
    require_estate(actor, legal.estate_id)
    legal = LegalCase.objects.select_for_update().get(pk=legal.pk)
    if legal.status != LegalCase.Status.PROPOSED:
        raise DomainError(_("only a proposed legal case can be rejected"), field="status")
    if not (note or "").strip():
        raise DomainError(_("say why"), field="note")
    legal.status = LegalCase.Status.REJECTED
    legal.decided_by = user_or_none(actor)
    legal.decided_at = timezone.now()
    legal.decision_note = note.strip()[:255]
    legal.save()
    audit_record(actor=actor, action="collection.legal_reject", subject=legal, summary=note[:255])
    return legal


TRACKED = [
    "court",
    "case_number",
    "filed_on",
    "hearing_on",
    "judgment_on",
    "judgment",
    "judgment_amount",
    "enforcement_number",
    "enforcement",
    "costs",
    "costs_note",
    "closed_on",
]


@transaction.atomic
def legal_update(*, actor, legal: LegalCase, **fields) -> LegalCase:
    """Record the proceedings; the status follows what is recorded."""
    from .cases import hold_release_source

    require_perm(actor, "collection.change_legalcase")
    require_estate(actor, legal.estate_id)
    legal = LegalCase.objects.select_for_update().get(pk=legal.pk)
    if legal.status in (LegalCase.Status.PROPOSED, LegalCase.Status.REJECTED):
        raise DomainError(_("the legal case is not approved"), field="status")
    if legal.status == LegalCase.Status.CLOSED:
        raise DomainError(_("the legal case is closed"), field="status")
    unknown = set(fields) - set(TRACKED)
    if unknown:
        raise DomainError(_("unknown field %(field)s") % {"field": sorted(unknown)[0]})
    before = snapshot(legal, TRACKED)
    for name, value in fields.items():
        if name in ("costs", "judgment_amount") and value not in (None, ""):
            value = money(value)
            if value < 0:
                raise DomainError(_("an amount cannot be negative"), field=name)
        if isinstance(value, str):
            value = value.strip()
        setattr(legal, name, value if value != "" or name not in ("judgment_amount",) else None)
    today = timezone.localdate()
    for name in ("filed_on", "hearing_on", "judgment_on", "closed_on"):
        value = getattr(legal, name)
        if value is not None and name != "hearing_on" and value > today:
            raise DomainError(_("that date is in the future"), field=name)
    if legal.judgment_on and legal.filed_on and legal.judgment_on < legal.filed_on:
        raise DomainError(_("the judgment is dated before the filing"), field="judgment_on")
    if legal.filed_on and not legal.case_number:
        raise DomainError(_("a filing has a case number"), field="case_number")
    if legal.closed_on:
        legal.status = LegalCase.Status.CLOSED
    elif legal.enforcement_number:
        legal.status = LegalCase.Status.ENFORCING
    elif legal.judgment_on:
        legal.status = LegalCase.Status.JUDGED
    elif legal.filed_on:
        legal.status = LegalCase.Status.FILED
    legal.save()
    if legal.status == LegalCase.Status.CLOSED:
        hold_release_source(source=_source(legal))
        set_case_status(legal.case, CaseStatus.OPEN, only_from=[CaseStatus.LEGAL])
    audit_record(
        actor=actor,
        action="collection.legal_update",
        subject=legal,
        before=before,
        after=snapshot(legal, TRACKED),
    )
    return legal


# --- the evidence file ------------------------------------------------------------------------


def _table_pdf(title: str, rows: list[list[str]], *, note: str = "") -> bytes:
    st = pdf.styles(10)
    flow = [pdf.text(title, st["title"])]
    if note:
        flow.append(pdf.text(note, st["body"]))
    flow.append(pdf.table(rows, font_size=8.5))
    return pdf.build(flow, title=title)


def _read(field) -> bytes | None:
    if not field:
        return None
    try:
        with field.open("rb") as fh:
            return fh.read()
    except OSError:
        return None


def _demand_parts(legal: LegalCase) -> tuple[list, list]:
    parts, missing = [], []
    demands = FormalDemand.objects.filter(party_id=legal.party_id).order_by("issued_on", "id")
    if not demands:
        missing.append(evidence.Missing("催缴通知书", "没有催缴通知书记录"))
    for d in demands:
        data = _read(d.pdf)
        if data is not None:
            parts.append(
                evidence.Part(
                    f"催缴通知书 {d.number}",
                    f"{d.issued_on} 书面催缴 {d.total} 元，期限 {d.deadline}",
                    f"催缴通知书-{d.number}.pdf",
                    data,
                )
            )
        proof = _read(d.proof)
        if proof is None:
            missing.append(evidence.Missing(f"送达凭证 {d.number}", "尚未上传送达凭证"))
            continue
        how = (
            f"挂号信 {d.tracking_number}" if d.tracking_number else f"专人送达，{d.received_by}签收"
        )
        ok = sha256(proof) == d.proof_sha256
        parts.append(
            evidence.Part(
                f"送达凭证 {d.number}",
                f"{d.delivered_on} 送达（{how}）；校验值{'一致' if ok else '不一致！'}",
                f"送达凭证-{d.number}-{d.proof_name}",
                proof,
            )
        )
    return parts, missing


def _contact_part(legal: LegalCase) -> evidence.Part:
    from .contacts import contacts_verify

    breaks = contacts_verify(estate_id=legal.estate_id)
    verdict = (
        "哈希链校验通过：记录未被改动或删除。"
        if not breaks
        else "哈希链校验发现问题：" + "；".join(str(b) for b in breaks[:20])
    )
    rows = [["序号", "时间", "方式", "经办人", "内容", "业主回应", "结果", "哈希"]]
    entries = ContactLog.objects.filter(party_id=legal.party_id).order_by("seq")
    for e in entries.select_related("staff"):
        rows.append(
            [
                str(e.seq),
                f"{timezone.localtime(e.at):%Y-%m-%d %H:%M}",
                e.get_channel_display(),
                e.staff.get_full_name() or e.staff.username if e.staff else "系统",
                e.said[:200],
                e.response[:200],
                e.get_outcome_display(),
                e.hash[:16],
            ]
        )
    data = _table_pdf("催收记录", rows, note=verdict)
    return evidence.Part("催收记录", f"每次联系的时间、方式与内容；{verdict}", "催收记录.pdf", data)


def _history_parts(legal: LegalCase) -> list:
    parts = []
    plans = InstallmentPlan.objects.filter(party_id=legal.party_id).order_by("drafted_at")
    for plan in plans:
        rows = [["期数", "日期", "金额", "已缴", "状态"]] + [
            [str(i.number), str(i.due_on), f"{i.amount}", f"{i.covered}", i.get_status_display()]
            for i in plan.instalments.all()
        ]
        note = (
            f"{plan.number}：{plan.get_status_display()}，合计 {plan.total} 元。{plan.end_reason}"
        )
        parts.append(
            evidence.Part(
                f"分期协议 {plan.number}",
                "欠款确认与分期履行情况",
                f"分期记录-{plan.number}.pdf",
                _table_pdf("分期履行记录", rows, note=note),
            )
        )
        signed = _read(plan.signed_scan)
        if signed is not None:
            parts.append(
                evidence.Part(
                    f"分期协议签字件 {plan.number}",
                    f"{plan.signed_on} 业主签字确认欠款",
                    f"分期协议签字件-{plan.number}.{plan.signed_scan.name.rsplit('.', 1)[-1]}",
                    signed,
                )
            )
    disputes = Dispute.objects.filter(party_id=legal.party_id).order_by("raised_at")
    if disputes:
        rows = [["编号", "提出", "类别", "内容", "工单", "结果"]]
        for d in disputes.prefetch_related("work_orders"):
            orders = "；".join(
                f"{w.number} {w.get_department_display()} 承诺{w.promised_by:%m-%d %H:%M} "
                f"{'完成' + f'{w.closed_at:%m-%d %H:%M}' if w.closed_at else '未完成'}"
                for w in d.work_orders.all()
            )
            rows.append(
                [
                    str(d.pk),
                    f"{timezone.localtime(d.raised_at):%Y-%m-%d}",
                    d.get_category_display(),
                    d.description[:200],
                    orders,
                    f"{d.get_outcome_display()} {d.outcome_note[:200]}" if d.outcome else "处理中",
                ]
            )
        parts.append(
            evidence.Part(
                "服务异议处理记录",
                "业主提出的服务问题均已派单处理并回访",
                "服务异议处理记录.pdf",
                _table_pdf("服务异议处理记录", rows),
            )
        )
    return parts


def evidence_parts(legal: LegalCase, *, today: date) -> tuple[list, list]:
    """Every part of the evidence file, in the order a court reads it, and what is missing."""
    estate, party = legal.estate, legal.party
    charges = list(
        Charge.objects.filter(party=party, status=Charge.Status.OPEN, outstanding__gt=0)
        .select_related("unit", "fee_item")
        .order_by("period", "id")
    )
    parts, missing = evidence.contract_parts(estate, on=today)
    std_parts, std_missing = evidence.fee_standard_parts(
        estate,
        fee_item_ids={c.fee_item_id for c in charges},
        periods=sorted({c.period for c in charges}),
    )
    parts += std_parts
    missing += std_missing
    parts += evidence.charges_parts(
        party, charges, clocks=party_clocks(party, today=today), today=today
    )
    demand_parts, demand_missing = _demand_parts(legal)
    parts += demand_parts
    missing += demand_missing
    parts.append(_contact_part(legal))
    parts += _history_parts(legal)
    return parts, missing


def evidence_facts(legal: LegalCase) -> list[tuple[str, str]]:
    party = legal.party
    units = "、".join(
        sorted(party.relations.filter(end_date__isnull=True).values_list("unit__number", flat=True))
    )
    stages = "；".join(
        f"{n} {STAGE_NAMES[n]}：{(legal.stages.get(n) or {}).get('on', '—')}"
        for n in ("1", "2", "3")
    )
    return [
        ("物业服务企业", legal.estate.company_name or legal.estate.name),
        ("项目", legal.estate.name),
        ("被申请人（业主）", party.name),
        ("房号", units or "—"),
        ("程序", legal.get_kind_display()),
        ("主张金额", f"{legal.amount_claimed:,.2f} 元"),
        ("案号", legal.case_number or "—"),
        ("此前催收", stages),
    ]


@transaction.atomic
def evidence_build(*, actor, legal: LegalCase, now: datetime | None = None) -> LegalCase:
    """Write the evidence ZIP of an approved case and keep it (with its SHA-256)."""
    require_perm(actor, "collection.change_legalcase")
    require_estate(actor, legal.estate_id)
    legal = LegalCase.objects.select_for_update().get(pk=legal.pk)
    if legal.status in (LegalCase.Status.PROPOSED, LegalCase.Status.REJECTED):
        raise DomainError(_("the legal case is not approved"), field="status")
    now = now or timezone.now()
    parts, missing = evidence_parts(legal, today=timezone.localdate(now))
    data = evidence.evidence_zip(
        title=f"证据材料 {legal.party.name}（{legal.get_kind_display()}）",
        facts=evidence_facts(legal),
        parts=parts,
        missing=missing,
        made_at=timezone.localtime(now),
    )
    legal.evidence.save(f"evidence-{legal.pk}-{now:%Y%m%d%H%M}.zip", ContentFile(data), save=False)
    legal.evidence_sha256 = sha256(data)
    legal.evidence_made_at = now
    legal.save(update_fields=["evidence", "evidence_sha256", "evidence_made_at"])
    audit_record(
        actor=actor,
        action="collection.evidence_build",
        subject=legal,
        after={"sha256": legal.evidence_sha256, "parts": len(parts), "missing": len(missing)},
    )
    return legal
