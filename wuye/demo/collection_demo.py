"""The collector's day in the demo (issue 14): the default dunning policy on every estate,
call scripts (话术), a dunning run over the demo's arrears, and on the first cases a few
weeks of contacts with every reason, a kept and a broken promise, and an escalation.

Idempotent: everything is looked up first (a policy per estate, scripts by title, the one
demo run, contacts only when the estate's log is empty)."""

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from wuye.collection.models import ArrearsCase, CallScript, ContactLog, DunningRun
from wuye.collection.services import cases as case_services
from wuye.collection.services.contacts import contact_record
from wuye.collection.services.policies import policy_default
from wuye.collection.services.run import dunning_run

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

REASONS = ["forgot", "dispute", "hardship", "unreachable", "other", "malicious"]


@transaction.atomic
def seed_collection() -> dict[str, int]:
    created: dict[str, int] = defaultdict(int)
    supervisor = _staff("supervisor")
    collector = _staff("collector")
    today = timezone.localdate()
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
    if not DunningRun.objects.exists():
        # two runs three weeks apart: cases reach stage 2 and 3, the repeats go out
        dunning_run(as_of=today - timedelta(days=21))
        run = dunning_run(as_of=today)
        created["cases"] += ArrearsCase.objects.count()
        created["dunning actions"] += run.counts.get("emitted", 0)
    for estate in _estates():
        if ContactLog.objects.filter(estate=estate, staff__isnull=False).exists():
            continue
        cases = list(
            ArrearsCase.objects.filter(estate=estate)
            .exclude(status="closed")
            .select_related("party")
            .order_by("-amount", "id")[: len(REASONS) + 2]
        )
        for index, case in enumerate(cases):
            reason = REASONS[index % len(REASONS)]
            actor = supervisor if reason == "malicious" else collector
            for week in (3, 2, 1):
                day = today - timedelta(days=7 * week)
                at = timezone.make_aware(datetime.combine(day, time(10, 30)))
                contact_record(
                    actor=actor,
                    party=case.party,
                    case=case,
                    channel="call" if week != 2 else "visit",
                    outcome="reached" if reason != "unreachable" else "no_answer",
                    reason=reason if reason != "unreachable" or week == 1 else "",
                    said="提醒欠费情况，说明缴费方式" if week != 2 else "上门沟通，递送缴费通知",
                    response={
                        "forgot": "忘记了，这周缴",
                        "dispute": "楼道漏水一直没修，修好再交",
                        "hardship": "最近失业，想分期",
                        "unreachable": "",
                        "other": "在外地，回来再说",
                        "malicious": "就是不交",
                    }[reason],
                    at=at,
                )
                created["contacts"] += 1
            case.refresh_from_db()
            case_services.case_set_reason(actor=actor, case=case, reason=reason)
        promised = [c for c in cases if c.reason == "forgot"][:1] or cases[:1]
        for case in promised:
            case_services.promise_record(
                actor=collector,
                case=case,
                amount=min(case.amount, Decimal("500.00")) or Decimal("100.00"),
                due_on=today + timedelta(days=7),
            )
            created["promises"] += 1
        if len(cases) > 4:
            case_services.escalation_raise(
                actor=collector, case=cases[4], note="业主情绪激动，请主管接手沟通"
            )
            created["escalations"] += 1
    return dict(created)
