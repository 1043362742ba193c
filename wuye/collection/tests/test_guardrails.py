"""DESIGN.md §5's guardrails: no stage can cut utilities, restrict access or publish names."""

import pytest
from django.db import IntegrityError, transaction

from wuye.collection.models import ActionKind, StageAction
from wuye.collection.services.policies import policy_default, policy_update
from wuye.core.errors import DomainError

FORBIDDEN = [
    "cut_water",
    "cut_electricity",
    "cut_heating",
    "cut_gas",
    "restrict_access",
    "stop_door_card",  # 16 characters at most: a longer word is refused by length first
    "block_parking",
    "publish_name",
]


def test_no_action_kind_cuts_utilities_restricts_access_or_publishes_names():
    words = " ".join(ActionKind.values).lower()
    for word in ("water", "electric", "heat", "gas", "access", "door", "lift", "park", "publish"):
        assert word not in words


@pytest.mark.django_db
@pytest.mark.parametrize("kind", FORBIDDEN)
def test_the_database_refuses_an_unlawful_action(estate, kind):
    stage = policy_default(estate=estate).stages.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        StageAction.objects.create(stage=stage, kind=kind)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", FORBIDDEN)
def test_a_supervisor_cannot_configure_an_unlawful_action(estate, make_staff, kind):
    supervisor = make_staff("supervisor", estates=[estate])
    policy = policy_default(estate=estate)
    with pytest.raises(DomainError):
        policy_update(
            actor=supervisor,
            policy=policy,
            stages=[{"name": "x", "min_days": 1, "actions": [{"kind": kind}]}],
        )
    assert policy.stages.count() == 4  # nothing half-written


@pytest.mark.django_db
def test_the_default_policy_is_design_s_four_stages(estate):
    policy = policy_default(estate=estate)
    stages = list(policy.stages.order_by("number"))
    assert [(s.number, s.name, s.min_days) for s in stages] == [
        (1, "温馨提示", 1),
        (2, "沟通", 15),
        (3, "正式催缴", 31),
        (4, "法律途径", 91),
    ]
    assert [a.kind for a in stages[0].actions.all()] == ["message"]
    assert "call" in [a.kind for a in stages[1].actions.all()]
    assert "formal_demand" in [a.kind for a in stages[2].actions.all()]
    assert stages[3].needs_approval
    assert policy_default(estate=estate).pk == policy.pk  # idempotent
