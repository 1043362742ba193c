"""The collector's month in the demo (issues 14 and 15), after the year of fees and payments.

- Every estate gets the default dunning policy (DESIGN.md §5's four stages) and call scripts
  (话术) per stage and reason.
- Three weeks ago (T0) the dunning run opened cases over the demo's arrears; today's run (T1)
  advanced them. In between the collectors worked, through the same services as on the
  pages, each action on its own day (`clock`): calls and visits with every reason (the
  contact log's hash chain holds: `wuye contacts verify`), a promise kept (the owner paid) and
  one broken, one made today; a heated call escalated to the supervisor; a refuser marked
  malicious by the supervisor, whose stage 4 (legal) she approved.
- Each way out (issue 15): an installment plan kept and one missed (the hardship owners on
  file), disputes with their engineering work orders (one closed, the owner called back), formal
  demands by registered mail and by hand with their proof of delivery, one lawsuit with its
  evidence file, and arrears moved in from the old system that are near (and one past) their
  three-year limitation date.
- Held cases do not advance, so cases sit at every stage: 1 and 2 (recent arrears), 3
  (over a month), 4 (approved).

The past is written with the clock set to its day: the collection services take "today" from
the clock, as they should for a collector at work, and refuse dates in the past (a promise, a
plan's first instalment), so the seed sets the clock instead of adding a parameter only it
would use. Idempotent: all of it happens with the first dunning run; once a run exists, only
the policies and scripts are looked up (and nothing is missing).
"""

import contextlib
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from wuye.billing.models import Charge
from wuye.billing.periods import Period
from wuye.billing.services.opening import opening_balances_import
from wuye.collection.models import ArrearsCase, CallScript, DunningRun
from wuye.collection.models.choices import CaseStatus
from wuye.collection.models.disputes import Department, Dispute
from wuye.collection.models.legal import LegalCase
from wuye.collection.services import cases as case_services
from wuye.collection.services import demands as demand_services
from wuye.collection.services import disputes as dispute_services
from wuye.collection.services import legal as legal_services
from wuye.collection.services import plans as plan_services
from wuye.collection.services.contacts import contact_record
from wuye.collection.services.policies import policy_default
from wuye.collection.services.run import dunning_run
from wuye.core.money import ZERO, money
from wuye.notifications.services import message_queue, message_send
from wuye.payments.models import Payment
from wuye.payments.services.payments import PaymentRequest, payments_take
from wuye.registry.models import Estate, OwnerNote, UnitParty

from .cycle import _estates, _staff

SCRIPTS = [
    (
        2,
        "",
        "第二阶段：电话沟通（通用）",
        "您好，我是{estate}物业服务中心的管家。打扰您一两分钟，最近家里一切都好吧？",
        "系统显示您名下的房屋有{periods}的物业费共{amount}元还未缴纳，最早一期已逾期{days}天。",
        "物业费用于小区的保洁、安保、绿化和公共设施维修，大家按时缴费小区才能维护得好。",
        "如果是忘记了，可以现在通过微信或到服务中心缴纳；如果对服务有意见，我们记录下来转给相关部门"
        "并给您回复；如果暂时有困难，可以申请分期。",
    ),
    (
        None,
        "dispute",
        "服务异议",
        "非常理解您的心情，您反映的问题我们一定重视。",
        "我先把您的意见详细记下来，同时说明一下目前欠费{amount}元的情况。",
        "我们会开工单给工程/保洁部门，承诺在约定时间内处理并回访您。",
        "异议处理期间，这部分费用暂停催缴；处理完毕后再请您缴纳。",
    ),
    (
        None,
        "hardship",
        "确有困难",
        "谢谢您愿意告诉我们实际情况，我们会尽量帮您想办法。",
        "目前欠费{amount}元，我们可以按您的能力分几期缴纳。",
        "物业费保障着全体业主的公共服务，分期可以既减轻您的压力，也不影响小区的服务。",
        "我们可以拟一份分期协议，您看每月缴多少比较合适？签字后按计划缴纳即可。",
    ),
    (
        3,
        "",
        "第三阶段：正式催缴后的回访",
        "您好，前几天我们给您寄送了《催缴通知书》，想确认一下您是否收到了。",
        "通知书列明了欠费{amount}元及缴费期限，期限内缴清即可。",
        "按时缴费是物业服务合同约定的义务，也关系到全体业主的公共服务。",
        "如有异议请在期限内提出，我们会认真核实；如有困难也可以申请分期。",
    ),
]

# reason -> (what the owner said, outcome of the calls)
REASONS = {
    "forgot": ("忘记了，这周缴", "reached"),
    "dispute": ("楼道漏水一直没修，修好再交", "reached"),
    "hardship": ("最近失业，想分期", "reached"),
    "unreachable": ("", "no_answer"),
    "other": ("在外地，回来再说", "reached"),
    "malicious": ("就是不交，爱怎么样怎么样", "refused"),
}
CALLED_PER_ESTATE = 14  # cases the collectors called over the three weeks, per estate
RUN_GAP = 21  # days between the demo's two dunning runs


@contextlib.contextmanager
def clock(day: date, hour: int = 10):
    """Set the clock to `day` at `hour` (it runs on from there): what a service stamps and
    takes for "today" is that day. For the seed only, single-threaded."""
    real = timezone.now
    started = real()
    base = timezone.make_aware(datetime.combine(day, time(hour)))
    timezone.now = lambda: base + (real() - started)
    try:
        yield
    finally:
        timezone.now = real


def _open_cases(estate: Estate) -> list[ArrearsCase]:
    return list(
        ArrearsCase.objects.filter(estate=estate)
        .exclude(status=CaseStatus.CLOSED)
        .select_related("party")
        .order_by("-amount", "id")
    )


def _pay(case: ArrearsCase, amount: Decimal, day: date, key: str) -> None:
    """The owner pays `amount` by WeChat on `day`, oldest charges first."""
    charges = list(
        Charge.objects.filter(party_id=case.party_id, status=Charge.Status.OPEN)
        .exclude(kind=Charge.Kind.LATE_FEE)
        .order_by("due_date", "id")
        .values_list("id", "outstanding")
    )
    owed = sum((o for _, o in charges), ZERO)
    amount = min(money(amount), owed)
    if amount <= 0 or Payment.objects.filter(idempotency_key=key).exists():
        return
    [result] = payments_take(
        requests=[
            PaymentRequest(
                party=case.party,
                amount=amount,
                channel="wechat",
                charge_ids=tuple(i for i, _ in charges),
                idempotency_key=key,
                external_ref=f"WECHAT-{key}",
            )
        ],
        today=day,
    )
    if isinstance(result, Exception):
        raise result


def _call(actor, case, day: date, reason: str, week: int, created) -> None:
    said, outcome = REASONS[reason]
    with clock(day, 10):
        contact_record(
            actor=actor,
            party=case.party,
            case=case,
            channel="visit" if week == 1 else "call",
            outcome=outcome,
            reason=reason if outcome != "no_answer" or week == 2 else "",
            said="上门沟通，递送缴费通知" if week == 1 else "提醒欠费情况，说明缴费方式",
            response=said,
            at=timezone.now(),
        )
    created["contacts"] += 1


def _noted(estate: Estate, category: str) -> ArrearsCase | None:
    """The open case of the owner staff noted under `category` (hardship, house quality)."""
    party_ids = OwnerNote.objects.filter(estate=estate, category=category).values("party_id")
    return (
        ArrearsCase.objects.filter(estate=estate, party_id__in=party_ids)
        .exclude(status=CaseStatus.CLOSED)
        .select_related("party")
        .order_by("id")
        .first()
    )


def _scan(title: str) -> bytes:
    """A stand-in for a scanned, signed page (a one-page PDF naming what it is)."""
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfgen import canvas

    from wuye.core.pdf import register_font

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A5, invariant=1)
    page.setFont(register_font(), 14)
    page.drawString(40, 500, title)
    page.drawString(40, 470, "（扫描件，演示数据）")
    page.save()
    return out.getvalue()


# --- the parts ---------------------------------------------------------------------------------
def _policies(created) -> None:
    for estate in _estates():
        if not hasattr(estate, "dunning_policy"):
            created["dunning policies"] += 1
        policy_default(estate=estate)
        for stage, reason, title, empathy, facts, purpose, options in SCRIPTS:
            _, made = CallScript.objects.get_or_create(
                estate=estate,
                title=title,
                defaults={
                    "stage_number": stage,
                    "reason": reason,
                    "empathy": empathy,
                    "facts": facts,
                    "purpose": purpose,
                    "options": options,
                },
            )
            created["call scripts"] += made


def _weeks_of_calls(estate, t0: date, staff, created, skip=None) -> dict[str, ArrearsCase]:
    """The biggest cases were called over three weeks, each with its reason; returns the
    first case of each reason."""
    collector, supervisor = staff["collector"], staff["supervisor"]
    first: dict[str, ArrearsCase] = {}
    reasons = list(REASONS)
    cases = [c for c in _open_cases(estate) if c != skip and c.status == CaseStatus.OPEN]
    for index, case in enumerate(cases[:CALLED_PER_ESTATE]):
        reason = reasons[index % len(reasons)]
        actor = supervisor if reason == "malicious" else collector
        for week in (0, 1, 2):
            _call(actor, case, t0 + timedelta(days=1 + 7 * week), reason, week, created)
        first.setdefault(reason, case)
    return first


# one call each on the next cases: what the collectors learnt (reason -> weight)
CALL_REASONS = [("forgot", 8), ("unreachable", 5), ("dispute", 3), ("hardship", 2), ("other", 3)]
ONE_CALL_PER_ESTATE = 30


def _one_call_each(estate, t0: date, staff, created) -> None:
    """The next cases by amount got one call each in the last three weeks, which told the
    collector why they had not paid (or that nobody answered)."""
    reasons = [r for r, weight in CALL_REASONS for _ in range(weight)]
    cases = [c for c in _open_cases(estate) if c.status == CaseStatus.OPEN and not c.reason]
    for index, case in enumerate(cases[:ONE_CALL_PER_ESTATE]):
        reason = reasons[(index * 7 + case.pk) % len(reasons)]
        _call(staff["collector"], case, t0 + timedelta(days=2 + index % 17), reason, 2, created)


def _held_at_stage_two(estate, t0: date, today: date, staff, created) -> None:
    """Two owners of recent arrears (stage 2) promised on the phone to pay after payday:
    their cases wait at stage 2 until then."""
    cases = [c for c in _open_cases(estate) if c.stage_number == 2 and c.status == CaseStatus.OPEN]
    for case in cases[:2]:
        day = t0 + timedelta(days=10)
        with clock(day, 15):
            contact = contact_record(
                actor=staff["collector"],
                party=case.party,
                case=case,
                channel="call",
                outcome="promised",
                reason="forgot",
                said="提醒上月物业费未缴",
                response="发工资了就交",
                at=timezone.now(),
            )
            case_services.promise_record(
                actor=staff["collector"],
                case=case,
                amount=min(case.amount, Decimal("400.00")),
                due_on=today + timedelta(days=5),
                contact=contact,
            )
        created["contacts"] += 1
        created["promises pending"] += 1


def _escalation(estate, t0: date, staff, created) -> None:
    """A call about last month's bill got heated: the collector handed the case to the
    supervisor with a note (a case the engine has not escalated by itself)."""
    recent = [
        c
        for c in _open_cases(estate)
        if c.stage_number == 2 and c.status == CaseStatus.OPEN and not c.escalations.exists()
    ]
    if not recent:
        return
    case = recent[0]
    with clock(t0 + timedelta(days=15), 11):
        contact = contact_record(
            actor=staff["collector"],
            party=case.party,
            case=case,
            channel="call",
            outcome="refused",
            said="提醒上月物业费未缴",
            response="业主情绪激动，称电梯常坏、投诉无人理，挂断电话",
            at=timezone.now(),
        )
        case_services.escalation_raise(
            actor=staff["collector"],
            case=case,
            note=f"业主情绪激动，请主管接手沟通（联系记录 #{contact.pk}）",
        )
    created["contacts"] += 1
    created["escalations"] += 1


def _refuser(estate: Estate, ta: date, staff) -> ArrearsCase | None:
    """The biggest debt of the first estate: the supervisor visited, the owner refused
    outright (malicious), and she approved stage 4 (legal); the next run moves it there."""
    case = next((c for c in _open_cases(estate) if c.status == CaseStatus.OPEN), None)
    if case is None:
        return None
    supervisor = staff["supervisor"]
    with clock(ta + timedelta(days=3), 16):
        contact_record(
            actor=supervisor,
            party=case.party,
            case=case,
            channel="visit",
            outcome="refused",
            reason="malicious",
            said="主管上门，说明欠费金额、合同约定和法律后果",
            response="就是不交，你们去告吧",
            at=timezone.now(),
        )
    with clock(ta + timedelta(days=5), 10):
        case_services.case_approve_stage(
            actor=supervisor,
            case=case,
            stage_number=4,
            note="多次沟通无果，明确拒缴，同意进入法律途径",
        )
    case.refresh_from_db()
    return case


def _promises(by_reason, t0: date, today: date, staff, created) -> None:
    collector = staff["collector"]
    kept, broken = by_reason.get("forgot"), by_reason.get("other")
    if kept is not None:
        with clock(t0 + timedelta(days=8)):
            promise = case_services.promise_record(
                actor=collector, case=kept, amount=Decimal("500.00"), due_on=t0 + timedelta(days=15)
            )
        _pay(kept, promise.amount, t0 + timedelta(days=12), f"demo-promise:{promise.pk}")
        created["promises kept"] += 1
    if broken is not None:
        with clock(t0 + timedelta(days=9)):
            case_services.promise_record(
                actor=collector,
                case=broken,
                amount=Decimal("800.00"),
                due_on=t0 + timedelta(days=14),
            )
        created["promises broken"] += 1


def _plans(estate, t0: date, staff, created, *, kept: bool) -> None:
    """The hardship owner on file agreed a three-month plan; kept: the first instalment was
    paid on time; missed: nothing came, and the daily check reopened the case."""
    case = _noted(estate, "hardship")
    if case is None:
        return
    collector, supervisor = staff["collector"], staff["supervisor"]
    with clock(t0 + timedelta(days=2)):
        case_services.case_set_reason(
            actor=collector, case=case, reason="hardship", note="业主失业，经济困难"
        )
        plan = plan_services.plan_draft(
            actor=collector,
            case=case,
            kind="equal",
            count=3,
            first_due=t0 + timedelta(days=(9 if kept else 4)),
            note="业主失业，按月分三期缴清",
        )
        plan_services.plan_sign(
            actor=collector,
            plan=plan,
            content=_scan(f"分期缴费协议 {plan.number}（业主签字）"),
            name="signed.pdf",
            signed_on=t0 + timedelta(days=2),
        )
        plan_services.plan_approve(actor=supervisor, plan=plan, note="同意分期")
    created["installment plans"] += 1
    if kept:
        first = plan.instalments.order_by("number").first()
        _pay(case, first.amount, t0 + timedelta(days=8), f"demo-plan:{plan.pk}:1")


def _disputes(estate, t0: date, staff, created, *, closed: bool) -> None:
    """The owner with a house-quality complaint disputes the fee: a work order for
    engineering; closed: engineering fixed it, the collector called back, resolved."""
    case = _noted(estate, "house_quality")
    if case is None or Dispute.objects.filter(case=case).exists():
        return
    collector, engineer = staff["collector"], staff["engineering"]
    with clock(t0 + timedelta(days=3), 9):
        dispute = dispute_services.dispute_raise(
            actor=collector,
            party=case.party,
            category="leak",
            description="卫生间顶部漏水，报修两次未修好，修好之前不交物业费",
            case=case,
            department=Department.ENGINEERING,
            now=timezone.now(),
        )
    created["disputes"] += 1
    if not closed:
        return
    order = dispute.work_orders.order_by("id").first()
    with clock(t0 + timedelta(days=5), 15):
        dispute_services.work_order_close(
            actor=engineer,
            order=order,
            resolution="楼上防水层破损，已重做防水并闭水试验48小时，无渗漏",
            now=timezone.now(),
        )
    with clock(t0 + timedelta(days=6), 10):
        contact_record(
            actor=collector,
            party=case.party,
            case=case,
            channel="call",
            outcome="reached",
            reason="dispute",
            said="回访：漏水已修复，确认业主满意",
            response="修好了，谢谢，这两天把物业费交了",
            at=timezone.now(),
        )
        dispute_services.dispute_resolve(
            actor=collector,
            dispute=dispute,
            outcome="upheld",
            note="工程部已修复漏水，业主确认满意，恢复正常催缴",
        )
    created["work orders closed"] += 1


def _demands(estate, t0: date, staff, created, cases: list[ArrearsCase]) -> list:
    """Formal demands (催缴通知书) to stage-3 cases: by registered mail (tracking number,
    then the signed return receipt) and one by hand (the owner's signed receipt)."""
    collector = staff["collector"]
    delivered = []
    for n, case in enumerate(cases):
        hand = n == len(cases) - 1
        with clock(t0 + timedelta(days=1), 11):
            demand = demand_services.demand_issue(
                actor=collector,
                case=case,
                delivery="hand" if hand else "registered",
                today=t0 + timedelta(days=1),
            )
        if not hand:
            with clock(t0 + timedelta(days=2), 9):
                demand_services.demand_post(
                    actor=collector,
                    demand=demand,
                    tracking_number=f"XA{estate.pk:02d}{case.pk:08d}CN",
                    on=t0 + timedelta(days=2),
                )
        with clock(t0 + timedelta(days=(3 if hand else 6)), 16):
            demand_services.demand_deliver(
                actor=collector,
                demand=demand,
                proof=_scan(f"{demand.number} {'签收回执' if hand else '邮件回执'}"),
                proof_name="proof.pdf",
                delivered_on=t0 + timedelta(days=(3 if hand else 6)),
                received_by=case.party.name,
            )
        created["demands delivered"] += 1
        delivered.append(demand)
    return delivered


def _lawsuit(case: ArrearsCase, t0: date, today: date, staff, created) -> None:
    """The refuser: stage 4 approved by the supervisor, a lawsuit proposed by the collector
    and approved (stages 1-3 on record), filed, and its evidence file built."""
    collector, supervisor = staff["collector"], staff["supervisor"]
    # stage 1 on record: the friendly reminder on the owner's channel, a month before the run
    with clock(t0 - timedelta(days=30), 10):
        oldest = (
            Charge.objects.filter(party_id=case.party_id, status=Charge.Status.OPEN)
            .order_by("due_date")
            .first()
        )
        reminder = message_queue(
            party=case.party,
            purpose="reminder",
            template_code="reminder_friendly",
            context={
                "unit": "、".join(
                    sorted(
                        case.party.relations.filter(end_date__isnull=True).values_list(
                            "unit__number", flat=True
                        )
                    )
                ),
                "period": oldest.period if oldest else "",
                "amount": case.amount,
                "due_date": oldest.due_date.isoformat() if oldest else "",
            },
            dedupe_key=f"demo-reminder:{case.pk}",
            now=timezone.now(),
        )
        message_send(message_id=reminder.pk, now=timezone.now())
    case.refresh_from_db()
    with clock(t0 + timedelta(days=16), 10):
        legal = legal_services.legal_propose(
            actor=collector,
            case=case,
            kind=LegalCase.Kind.LITIGATION,
            reason="欠费逾一年，书面催缴送达后仍明确拒缴",
        )
        legal = legal_services.legal_approve(actor=supervisor, legal=legal, note="同意起诉")
    with clock(t0 + timedelta(days=19), 14):
        legal = legal_services.legal_update(
            actor=supervisor,
            legal=legal,
            court=f"{case.estate.name[:2]}区人民法院",
            case_number=f"（{today.year}）民初{case.pk:05d}号",
            filed_on=t0 + timedelta(days=19),
            hearing_on=today + timedelta(days=30),
        )
        legal_services.evidence_build(actor=supervisor, legal=legal, now=timezone.now())
    created["legal cases"] += 1


def _old_arrears(estate: Estate, today: date, staff, created) -> None:
    """Arrears moved in from the old system (opening balances) for two owners: periods some
    three years old, so one is past its limitation date and the rest end within 90 days."""
    from openpyxl import Workbook

    unit_ids = (
        UnitParty.objects.filter(estate=estate, role="owner", end_date__isnull=True)
        .filter(start_date__lte=date(today.year - 4, 1, 1), unit__unit_type="residential")
        .order_by("unit__number")
        .values_list("unit__number", flat=True)[:2]
    )
    current = Period.of(today)
    book = Workbook()
    sheet = book.active
    sheet.append(["房号", "收费项目", "期间", "类型", "金额", "日期"])
    for number in unit_ids:
        for back in (38, 35, 34):  # months back: one barred, two within the 90 days
            period = current.plus(-back)
            sheet.append([number, "PROPERTY", str(period), "欠费", "280.00", None])
    if sheet.max_row == 1:
        return
    out = io.BytesIO()
    book.save(out)
    result = opening_balances_import(
        actor=staff["finance"], estate=estate, content=out.getvalue(), as_of=today
    )
    if result.errors:
        raise ValueError(f"demo opening balances: {result.errors[0]}")
    created["old arrears moved in"] += result.rows


# --- the whole ---------------------------------------------------------------------------------
@transaction.atomic
def seed_collection() -> dict[str, int]:
    created: dict[str, int] = defaultdict(int)
    _policies(created)
    if DunningRun.objects.exists():
        return dict(created)
    staff = {
        name: _staff(name)
        for name in ("collector", "supervisor", "engineering", "finance", "customer_service")
    }
    today = timezone.localdate()
    t0 = today - timedelta(days=RUN_GAP)
    ta = t0 - timedelta(days=RUN_GAP + 7)
    estates = _estates()
    for estate in estates:
        _old_arrears(estate, today, staff, created)
    with clock(ta, 2):
        dunning_run(as_of=ta)
    refuser = _refuser(estates[0], ta, staff)
    with clock(t0, 2):
        dunning_run(as_of=t0)
    for n, estate in enumerate(estates):
        by_reason = _weeks_of_calls(estate, t0, staff, created, skip=refuser)
        _one_call_each(estate, t0, staff, created)
        _promises(by_reason, t0, today, staff, created)
        _held_at_stage_two(estate, t0, today, staff, created)
        _plans(estate, t0, staff, created, kept=n % 2 == 0)
        _disputes(estate, t0, staff, created, closed=n % 2 == 0)
        stage3 = [
            c
            for c in _open_cases(estate)
            if c.stage_number == 3 and c.status == CaseStatus.OPEN and c.reason != "malicious"
        ]
        _demands(estate, t0, staff, created, stage3[-3:])
        if n == 0 and refuser is not None:
            _demands(estate, t0, staff, created, [refuser])
            _lawsuit(refuser, t0, today, staff, created)
        _escalation(estate, t0, staff, created)
    plan_services.plans_check(today=today)
    run = dunning_run(as_of=today)
    created["cases"] += ArrearsCase.objects.count()
    created["dunning actions"] += run.counts.get("emitted", 0)
    # and one promise made today, for next week
    for estate in estates[:1]:
        case = next((c for c in _open_cases(estate) if c.status == CaseStatus.OPEN), None)
        if case is not None:
            case_services.promise_record(
                actor=staff["collector"],
                case=case,
                amount=min(case.amount, Decimal("600.00")),
                due_on=today + timedelta(days=7),
            )
            created["promises pending"] += 1
    return dict(created)
