"""The policy pages and the call scripts, as a supervisor edits them and a collector reads
them: ordered stages with their actions, errors on the field, the audit row, and no way to
configure an action that cuts utilities, restricts access or publishes a name."""

import pytest

from wuye.audit.models import AuditEvent
from wuye.collection.models import ActionKind, CallScript, DunningPolicy, StageAction
from wuye.collection.services.policies import policy_default

pytestmark = pytest.mark.django_db

FORGED = ["cut_water", "cut_power", "restrict_access", "publish_name", "door_card_block"]


def _form(policy) -> dict:
    """The edit form as the page renders it (stages, actions and the blank rows)."""
    data = {
        "name": policy.name,
        "is_active": "1",
        "escalate_after_days": str(policy.escalate_after_days),
    }
    stages = list(policy.stages.order_by("number"))
    data["stage_count"] = str(len(stages) + 1)
    for i, s in enumerate(stages):
        p = f"s{i}-"
        data.update(
            {
                p + "name": s.name,
                p + "min_days": str(s.min_days),
                p + "repeat_days": str(s.repeat_days),
                p + "assignee_role": s.assignee_role,
                p + "needs_reason": s.needs_reason,
            }
        )
        if s.needs_approval:
            data[p + "needs_approval"] = "1"
        actions = list(s.actions.all())
        data[p + "action_count"] = str(len(actions) + 1)
        for j, a in enumerate(actions):
            q = f"{p}a{j}-"
            data.update(
                {
                    q + "kind": a.kind,
                    q + "channel": a.channel,
                    q + "template_code": a.template_code,
                    q + "task_role": a.task_role,
                }
            )
    return data


@pytest.fixture
def policy(estate):
    return policy_default(estate=estate)


def test_the_list_and_the_page_show_the_ordered_stages(client, collector, policy, other_estate):
    client.force_login(collector)
    listing = client.get("/collection/policies/").content.decode()
    assert f"/collection/policies/{policy.pk}/" in listing
    assert listing.index("温馨提示") < listing.index("沟通") < listing.index("正式催缴")
    page = client.get(f"/collection/policies/{policy.pk}/").content.decode()
    assert 'data-test="stage-4"' in page and "法律途径" in page
    # a collector reads it but cannot save it
    assert 'data-test="save-policy"' not in page and "<fieldset disabled>" in page
    assert client.post(f"/collection/policies/{policy.pk}/", _form(policy)).status_code == 403
    other = policy_default(estate=other_estate)
    assert client.get(f"/collection/policies/{other.pk}/").status_code == 404


def test_a_supervisor_edits_stages_and_actions_and_it_is_audited(client, supervisor, policy):
    client.force_login(supervisor)
    data = _form(policy)
    data["s0-min_days"] = "3"
    data["s1-repeat_days"] = "5"
    # stage 2's blank action row: a booked visit for the collector
    data["s1-a2-kind"] = "visit"
    data["s1-a2-task_role"] = "collector"
    # remove stage 3's follow-up call
    data["s2-a1-delete"] = "1"
    # a fifth stage: ask the owners' committee (业委会)
    data.update(
        {
            "s4-name": "业委会协助",
            "s4-min_days": "180",
            "s4-repeat_days": "0",
            "s4-assignee_role": "supervisor",
            "s4-action_count": "1",
            "s4-a0-kind": "committee",
            "s4-a0-task_role": "supervisor",
        }
    )
    response = client.post(f"/collection/policies/{policy.pk}/", data)
    assert response.status_code == 302
    stages = list(policy.stages.order_by("number"))
    assert [(s.number, s.name, s.min_days) for s in stages][0] == (1, "温馨提示", 3)
    assert stages[1].repeat_days == 5
    assert [a.kind for a in stages[1].actions.all()] == ["message", "call", "visit"]
    assert [a.kind for a in stages[2].actions.all()] == ["formal_demand"]
    assert (stages[4].name, [a.kind for a in stages[4].actions.all()]) == (
        "业委会协助",
        ["committee"],
    )
    event = AuditEvent.objects.get(action="collection.policy_update")
    assert event.actor == supervisor
    assert event.before["stages"][0]["min_days"] == 1 and event.after["stages"][0]["min_days"] == 3


def test_errors_are_shown_on_the_field_and_nothing_is_saved(client, supervisor, policy):
    client.force_login(supervisor)
    data = _form(policy)
    data["s2-min_days"] = "10"  # before stage 2's 15 days
    response = client.post(f"/collection/policies/{policy.pk}/", data)
    page = response.content.decode()
    assert response.status_code == 400
    stage3 = page.split('data-test="stage-3"')[1].split('data-test="stage-4"')[0]
    assert 'name="s2-min_days"' in stage3 and "is-invalid" in stage3
    assert "stage 3 must start later than the stage before it" in stage3
    assert 'value="10"' in stage3  # what was typed is kept
    assert policy.stages.get(number=3).min_days == 31
    # a message without a template: the error sits on that action's template input
    data = _form(policy)
    data["s0-a0-template_code"] = ""
    page = client.post(f"/collection/policies/{policy.pk}/", data).content.decode()
    stage1 = page.split('data-test="stage-1"')[1].split('data-test="stage-2"')[0]
    assert "a message needs a template" in stage1
    assert not AuditEvent.objects.filter(action="collection.policy_update").exists()
    data = _form(policy)
    data["s1-repeat_days"] = "weekly"
    page = client.post(f"/collection/policies/{policy.pk}/", data).content.decode()
    assert "weekly is not a whole number of days" in page


def test_the_page_offers_only_lawful_actions(client, supervisor, policy):
    client.force_login(supervisor)
    page = client.get(f"/collection/policies/{policy.pk}/").content.decode()
    select = page.split('name="s0-a0-kind"')[1].split("</select>")[0]
    offered = {v.split('"')[0] for v in select.split('value="')[1:]} - {""}
    assert offered == set(ActionKind.values)


@pytest.mark.parametrize("kind", FORGED)
def test_the_page_refuses_a_forged_unlawful_action(client, supervisor, policy, kind):
    client.force_login(supervisor)
    data = _form(policy)
    data["s0-a1-kind"] = kind  # the blank row of stage 1, forged
    response = client.post(f"/collection/policies/{policy.pk}/", data)
    assert response.status_code == 400
    assert "is not an action a stage may take" in response.content.decode()
    assert not StageAction.objects.filter(kind=kind).exists()
    assert StageAction.objects.filter(stage__policy=policy).count() == 6  # unchanged


def test_an_estate_without_a_policy_gets_the_default_from_a_supervisor(
    client, supervisor, collector, estate
):
    client.force_login(collector)
    assert client.post("/collection/policies/", {"estate": estate.pk}).status_code == 403
    client.force_login(supervisor)
    assert "Set up the default policy" in client.get("/collection/policies/").content.decode()
    response = client.post("/collection/policies/", {"estate": estate.pk})
    policy = DunningPolicy.objects.get(estate=estate)
    assert response["Location"] == f"/collection/policies/{policy.pk}/"
    assert policy.stages.count() == 4


# --- call scripts ----------------------------------------------------------------------------

SCRIPT = {
    "title": "忘记缴费的提醒",
    "stage_number": "2",
    "reason": "forgot",
    "is_active": "1",
    "empathy": "您好，打扰您了，最近工作忙吧？",
    "facts": "您家 2026年9-11月物业费共 750.00 元还未缴，月底前缴清即可。",
    "purpose": "物业费用于保洁、安保、电梯维保和公共照明。",
    "options": "可以在业主小程序一键缴费；如有困难可申请分期；对服务有意见我们登记处理。",
}


def test_a_supervisor_writes_a_script_and_collectors_read_it_as_training(
    client, supervisor, collector, estate, policy
):
    client.force_login(supervisor)
    response = client.post(f"/collection/scripts/new/?estate={estate.pk}", SCRIPT)
    script = CallScript.objects.get()
    assert response["Location"] == f"/collection/scripts/{script.pk}/"
    assert (script.estate, script.stage_number, script.reason) == (estate, 2, "forgot")
    assert AuditEvent.objects.filter(action="collection.script_save").count() == 1
    client.post(f"/collection/scripts/{script.pk}/", {**SCRIPT, "title": "忘记缴费（二）"})
    script.refresh_from_db()
    assert script.title == "忘记缴费（二）"
    client.force_login(collector)
    listing = client.get(f"/collection/scripts/?estate={estate.pk}&stage=2&reason=forgot")
    assert "忘记缴费（二）" in listing.content.decode()
    assert "忘记缴费（二）" not in client.get("/collection/scripts/?stage=3").content.decode()
    training = client.get("/collection/scripts/training/").content.decode()
    assert "最近工作忙吧" in training and "保洁、安保" in training and "分期" in training
    assert "Stage 2 沟通" in training
    # a collector reads but cannot change
    assert client.post(f"/collection/scripts/{script.pk}/", SCRIPT).status_code == 403
    # an inactive script is not training material
    client.force_login(supervisor)
    client.post(f"/collection/scripts/{script.pk}/", {**SCRIPT, "is_active": ""})
    client.force_login(collector)
    assert "最近工作忙吧" not in client.get("/collection/scripts/training/").content.decode()


def test_a_script_needs_every_part(client, supervisor, estate):
    client.force_login(supervisor)
    response = client.post(
        f"/collection/scripts/new/?estate={estate.pk}", {**SCRIPT, "empathy": "  "}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "this field is required" in page.split('name="empathy"')[1].split("<label")[0]
    assert not CallScript.objects.exists()


def test_another_estates_script_is_404(client, collector, other_estate, make_staff):
    boss = make_staff("supervisor", estates=[other_estate])
    from wuye.collection.services.policies import script_save

    script = script_save(
        actor=boss,
        estate=other_estate,
        **{k: v for k, v in SCRIPT.items() if k not in ("stage_number", "reason", "is_active")},
    )
    client.force_login(collector)
    assert client.get(f"/collection/scripts/{script.pk}/").status_code == 404
    assert (
        "最近工作忙吧"
        not in client.get(
            f"/collection/scripts/training/?estate={other_estate.pk}"
        ).content.decode()
    )
