"""Templates: rendering in three languages, unknown placeholders refused, versions."""

import pytest

from wuye.core.errors import DomainError
from wuye.notifications.models import MessageTemplate
from wuye.notifications.rendering import render
from wuye.notifications.services import (
    message_queue,
    template_create,
    template_preview,
    template_resolve,
    template_revise,
)

pytestmark = pytest.mark.django_db
BILL = {"period": "2026-11", "amount": "268.50", "due_date": "2026-11-30"}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            "亲爱的张伟业主,温馨提醒您名下1-1-301的2026-11物业费268.50元已逾期,请您抽空缴纳",
        ),
        (
            "zh-hant",
            "親愛的張偉業主,溫馨提醒您名下1-1-301的2026-11物業費268.50元已逾期,請您抽空繳納",
        ),
        ("en", "Dear 张伟, a friendly reminder that the property fee of 268.50 yuan for 1-1-301"),
    ],
)
def test_the_friendly_reminder_renders_in_three_languages(owner, language, expected):
    # given the seeded friendly reminder
    template = template_resolve(code="reminder_friendly", channel="sms", language=language)
    # when previewed for a real owner
    preview = template_preview(template=template, party=owner, context=BILL)
    # then the text reads as the business wrote it (names are data, not translated)
    text = preview["text"]
    if language == "zh-hant":
        text = text.replace("张伟", "張偉")
    assert text.startswith(expected)
    assert "0755-86001234" in preview["text"]


def test_every_seeded_template_exists_in_three_languages():
    codes = ["bill_notice", "reminder_friendly", "reminder_firm", "reminder_formal"]
    for code in codes:
        languages = set(
            MessageTemplate.objects.filter(code=code, is_active=True).values_list(
                "language", flat=True
            )
        )
        assert languages == {"zh-hans", "zh-hant", "en"}, code


def test_unknown_placeholders_are_refused_by_name():
    with pytest.raises(DomainError) as exc:
        render("您好{owner},请缴纳{amout}元,户号{unit_no}", {"owner": "张伟"})
    assert "{amout}" in exc.value.message and "{unit_no}" in exc.value.message
    assert exc.value.field == "body"


def test_a_template_with_an_unknown_placeholder_is_not_saved(make_staff):
    staff = make_staff("customer_service")
    with pytest.raises(DomainError) as exc:
        template_create(
            actor=staff,
            code="x",
            purpose="reminder",
            language="zh-hans",
            body="{owner} 您好 {ammount}",
        )
    assert "{ammount}" in str(exc.value)
    assert not MessageTemplate.objects.filter(code="x").exists()


def test_a_missing_value_is_named():
    with pytest.raises(DomainError) as exc:
        render("{owner} owes {amount}", {"owner": "张伟"})
    assert "{amount}" in exc.value.message


def test_a_used_template_gets_a_new_version_instead_of_an_edit(
    make_staff, reachable_owner, open_policy
):
    staff = make_staff("customer_service")
    template = template_create(
        actor=staff, code="notice", purpose="other", language="zh-hans", body="{owner}您好"
    )
    # an unused version is edited in place
    template = template_revise(actor=staff, template=template, body="{owner}您好!")
    assert template.version == 1 and template.body == "{owner}您好!"
    # once used...
    used = message_queue(party=reachable_owner, purpose="other", template_code="notice")
    # ...a change is version 2, the old one stays as it was and inactive
    revised = template_revise(actor=staff, template=template, body="{owner}您好,{estate}")
    assert revised.version == 2 and revised.is_active
    template.refresh_from_db()
    assert template.body == "{owner}您好!" and not template.is_active
    assert used.template_id == template.pk
    # and new messages use version 2
    later = message_queue(party=reachable_owner, purpose="other", template_code="notice")
    assert later.template_version == 2 and later.text == "张伟您好,华苑小区"


def test_auditors_may_not_write_templates(make_staff):
    from wuye.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        template_create(
            actor=make_staff("auditor"), code="y", purpose="other", language="en", body="hi"
        )
