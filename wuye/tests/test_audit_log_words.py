"""The audit log page reads in the reader's language: summaries stored as a message and its
parameters are translated when shown; actions, record types and changed fields are words, never
codes (issue 13 §4)."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record
from wuye.audit.summaries import Summary


def test_a_summary_is_stored_in_english_and_shown_in_the_readers_language(db):
    event = audit_record(
        actor=None,
        action="update",
        subject_type="payments.receipt",
        summary=Summary(gettext_noop("receipt %(code)s printed (copy)"), code="HY-2026-000001"),
    )
    event = AuditEvent.objects.get(pk=event.pk)
    # searches and the API keep reading the English text
    assert event.summary == "receipt HY-2026-000001 printed (copy)"
    assert event.summary_params == {"code": "HY-2026-000001"}
    with translation.override("zh-hans"):
        assert event.summary_text == "收据 HY-2026-000001 已重打（副本）"
    with translation.override("zh-hant"):
        assert event.summary_text == "收據 HY-2026-000001 已重打（副本）"
    with translation.override("en"):
        assert event.summary_text == "receipt HY-2026-000001 printed (copy)"
    # a plain string (a note typed by staff) is shown as written
    note = audit_record(actor=None, action="update", summary="业主来电说明情况")
    assert note.summary_text == "业主来电说明情况"


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant"])
def test_the_audit_log_page_has_no_english_summaries_or_codes(
    client, make_staff, estate, owner, unit, language
):
    from wuye.payments.models import CashierShift
    from wuye.payments.services import shift_close, shift_open

    # given a cashier who opened and closed a shift (real services write the rows)
    cashier = make_staff("cashier", estates=[estate])
    cashier.last_name = "李娜"
    cashier.save()
    shift = shift_open(actor=cashier, estate=estate, float_amount="100.00")
    shift_close(actor=cashier, shift=shift, counted_cash="100.00", counted_pos="0.00")
    audit_record(
        actor=None,
        action="collection.plan_approve",
        subject_type="payments.cashiershift",
        subject_id=str(shift.pk),
        estate_id=estate.pk,
        before={"status": CashierShift.Status.OPEN},
        after={"status": CashierShift.Status.CLOSED},
    )
    # when an auditor reads the log in Chinese
    auditor = make_staff("auditor")
    auditor.last_name = "王芳"
    auditor.save()
    client.force_login(auditor)
    page = client.get(reverse("audit:list"), HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    cells = " ".join(re.findall(r"<td[^>]*>(.*?)</td>", table, re.S))
    text = re.sub(r"<[^>]+>", " ", cells)
    # then the summaries, actions, record types and field values are in Chinese
    assert "结班" in text or "結班" in text
    assert "shift closed" not in text and "cash variance" not in text
    assert "payments.cashiershift" not in text and "collection.plan_approve" not in text
    words = re.findall(r"[A-Za-z]{3,}", text)
    assert [w for w in words if w != "POS"] == [], words


def test_a_word_in_a_summary_is_translated_too(db):
    from wuye.online.models import PaymentOrder

    with translation.override("zh-hans"):  # written while the writer reads Chinese
        event = audit_record(
            actor=None,
            action="update",
            summary=Summary(
                gettext_noop("order %(status)s"),
                words=["status"],
                status=PaymentOrder.Status.CLOSED.label,
            ),
        )
    assert event.summary == "order Closed"  # stored in English
    with translation.override("zh-hant"):
        text = AuditEvent.objects.get(pk=event.pk).summary_text
    assert "Closed" not in text and "order" not in text
