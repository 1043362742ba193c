"""The contact policy: quiet hours and the weekly cap in Asia/Shanghai, consent, opt-outs."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from wuye.notifications.models import ContactPolicy, Message
from wuye.notifications.services import (
    channel_opt_in,
    channel_opt_out,
    contact_check,
    contact_mark,
    message_dispatch_due,
    message_queue,
    message_send,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def policy(estate):
    return ContactPolicy.objects.create(estate=estate, weekly_cap=3)


@pytest.fixture
def sms_owner(owner):
    owner.consents = {"sms": True}
    owner.preferred_channels = ["sms"]
    owner.save()
    return owner


def test_2059_is_allowed_and_2100_is_quiet_until_0800_next_day(policy, sms_owner):
    # when / then: one minute before the quiet hours the contact may happen
    assert contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 26, 20, 59)).allowed
    # and at 21:00 it is refused and may happen again at 08:00 the next morning
    decision = contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 26, 21, 0))
    assert not decision.allowed and decision.reason == "quiet_hours"
    assert decision.next_allowed_at == sh(2026, 11, 27, 8, 0)
    # and just after midnight the quiet hours still run until 08:00 the same day
    after_midnight = contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 27, 0, 30))
    assert after_midnight.next_allowed_at == sh(2026, 11, 27, 8, 0)
    assert contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 27, 8, 0)).allowed


def test_quiet_hours_are_shanghai_time_even_when_utc_is_another_day(policy, sms_owner):
    # 2026-11-26 23:30 UTC is 07:30 on the 27th in Shanghai: quiet, until 08:00 Shanghai
    at = datetime(2026, 11, 26, 23, 30, tzinfo=ZoneInfo("UTC"))
    decision = contact_check(party=sms_owner, channel="sms", at=at)
    assert decision.reason == "quiet_hours"
    assert decision.next_allowed_at == sh(2026, 11, 27, 8, 0)


def test_a_message_queued_in_quiet_hours_is_suppressed_and_goes_out_at_0800(policy, sms_owner):
    # given a bill notice queued at 21:00 (the worker is driven by hand, on a set clock)
    message = message_queue(
        party=sms_owner,
        purpose="bill_notice",
        context={"period": "2026-11", "amount": "100.00", "due_date": "2026-11-30"},
        now=sh(2026, 11, 26, 21, 0),
    )
    message.refresh_from_db()
    # then it is kept as suppressed, with its reason and the next allowed time
    assert message.status == Message.Status.SUPPRESSED
    assert message.suppressed_reason == "quiet_hours"
    assert message.not_before == sh(2026, 11, 27, 8, 0)
    # when the dispatcher runs at 07:59 nothing goes; at 08:00 it does
    assert message_dispatch_due(now=sh(2026, 11, 27, 7, 59)) == 0
    assert message_dispatch_due(now=sh(2026, 11, 27, 8, 0)) == 1
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED  # demo backend
    assert message.suppressed_reason == ""


def test_weekly_cap_counts_a_rolling_week_across_midnight(policy, sms_owner):
    # given three SMS contacts, the last at 23:50 Shanghai time on the 20th
    for moment in (sh(2026, 11, 19, 10, 0), sh(2026, 11, 20, 9, 0), sh(2026, 11, 20, 20, 50)):
        contact_mark(party=sms_owner, channel="sms", at=moment, source=f"test:{moment}")
    # when a fourth is tried on the 26th at 10:00 (within 7 x 24 h of two of them)...
    # the oldest (19th 10:00) has just left the window, so it is allowed
    assert contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 26, 10, 0, 1)).allowed
    # but a day earlier the cap holds, until the oldest contact is a full week old
    decision = contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 25, 12, 0))
    assert decision.reason == "weekly_cap"
    assert decision.next_allowed_at == sh(2026, 11, 26, 10, 0)


def test_the_cap_next_time_skips_quiet_hours(policy, sms_owner):
    # given three contacts, the oldest at 22:30 (a call the owner asked for, at night)
    for moment in (sh(2026, 11, 19, 22, 30), sh(2026, 11, 20, 9, 0), sh(2026, 11, 21, 9, 0)):
        contact_mark(party=sms_owner, channel="sms", at=moment, source=f"t:{moment}")
    # when tried on the 26th at noon: the cap frees at 22:30 on the 26th, inside quiet hours,
    # so the next allowed time is 08:00 on the 27th
    decision = contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 26, 12, 0))
    assert decision.reason == "weekly_cap"
    assert decision.next_allowed_at == sh(2026, 11, 27, 8, 0)


def test_sent_messages_count_against_the_cap_and_other_channels_do_not(policy, sms_owner):
    sms_owner.consents["email"] = True
    sms_owner.email = "a@example.com"
    sms_owner.save()
    base = sh(2026, 11, 23, 10, 0)
    for day in range(3):
        message = message_queue(
            party=sms_owner,
            purpose="reminder",
            template_code="reminder_friendly",
            channel="sms",
            context={"period": "2026-10", "amount": "90.00"},
            now=base + timedelta(days=day),
        )
        message_send(message_id=message.pk, now=base + timedelta(days=day))
    assert Message.objects.filter(status="delivered").count() == 3
    # then a fourth SMS the same week is capped, an e-mail is not
    at = base + timedelta(days=3)
    assert contact_check(party=sms_owner, channel="sms", at=at).reason == "weekly_cap"
    assert contact_check(party=sms_owner, channel="email", at=at).allowed


def test_one_time_codes_bypass_quiet_hours_the_cap_and_consent(policy, owner):
    owner.consents = {}
    owner.save()
    at = sh(2026, 11, 26, 23, 0)
    assert not contact_check(party=owner, channel="sms", at=at).allowed
    assert contact_check(party=owner, channel="sms", at=at, purpose="one_time_code").allowed


def test_without_consent_the_channel_is_refused_for_good(policy, owner):
    owner.consents = {"sms": False}
    owner.save()
    decision = contact_check(party=owner, channel="sms", at=sh(2026, 11, 26, 10, 0))
    assert decision.reason == "no_consent" and decision.permanent


def test_an_opt_out_is_recorded_with_time_and_source_and_can_be_revoked(policy, sms_owner):
    at = sh(2026, 11, 26, 10, 0)
    # when the owner replies TD to an SMS
    opt_out = channel_opt_out(actor=None, party=sms_owner, channel="sms", source="sms_reply", at=at)
    # then SMS is refused, and recording it twice keeps one opt-out
    assert contact_check(party=sms_owner, channel="sms", at=at).reason == "opted_out"
    assert channel_opt_out(actor=None, party=sms_owner, channel="sms", source="x").pk == opt_out.pk
    # and a formal demand is refused too on a channel the owner refused (issue 11 §14)
    channel_opt_out(actor=None, party=sms_owner, channel="letter", source="hotline", at=at)
    demand = contact_check(party=sms_owner, channel="letter", at=at, purpose="formal_demand")
    assert demand.reason == "opted_out"
    # when the owner opts in again
    assert channel_opt_in(actor=None, party=sms_owner, channel="sms") == 1
    assert contact_check(party=sms_owner, channel="sms", at=at).allowed


def test_a_disabled_channel_is_refused_even_for_one_time_codes(estate, sms_owner):
    ContactPolicy.objects.create(estate=estate, channels_enabled={"sms": False})
    decision = contact_check(
        party=sms_owner, channel="sms", at=sh(2026, 11, 26, 10, 0), purpose="one_time_code"
    )
    assert decision.reason == "channel_disabled"


def test_letters_have_no_quiet_hours_but_calls_do(policy, sms_owner):
    night = sh(2026, 11, 26, 22, 0)
    assert contact_check(party=sms_owner, channel="letter", at=night).allowed
    assert contact_check(party=sms_owner, channel="call", at=night).reason == "quiet_hours"


def test_a_policy_with_daytime_quiet_hours(estate, sms_owner):
    ContactPolicy.objects.create(estate=estate, quiet_start=time(12, 0), quiet_end=time(14, 0))
    assert contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 26, 11, 59)).allowed
    decision = contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 26, 12, 0))
    assert decision.next_allowed_at == sh(2026, 11, 26, 14, 0)


def test_the_total_cap_counts_every_channel_together(policy, sms_owner):
    # given a policy of 3 a channel and 4 in all, and an owner reached by e-mail too
    policy.weekly_cap_total = 4
    policy.save()
    sms_owner.consents["email"] = True
    sms_owner.email = "a@example.com"
    sms_owner.save()
    # two SMS, a call and a visit this week: no channel is at its own cap of 3
    contacts = [
        ("sms", sh(2026, 11, 20, 9, 0)),
        ("sms", sh(2026, 11, 21, 9, 0)),
        ("call", sh(2026, 11, 22, 10, 0)),
        ("visit", sh(2026, 11, 23, 15, 0)),
    ]
    for channel, moment in contacts:
        contact_mark(party=sms_owner, channel=channel, at=moment, source=f"t:{channel}:{moment}")
    # when an e-mail is tried on the 24th, the four contacts together hold it back
    decision = contact_check(party=sms_owner, channel="email", at=sh(2026, 11, 24, 12, 0))
    assert decision.reason == "weekly_total_cap"
    # until the oldest of the four is a full week old
    assert decision.next_allowed_at == sh(2026, 11, 27, 9, 0)
    assert contact_check(party=sms_owner, channel="email", at=sh(2026, 11, 27, 9, 0, 1)).allowed


def test_without_a_total_cap_only_each_channels_own_cap_counts(policy, sms_owner):
    for channel in ("sms", "call", "visit", "letter"):
        for day in (20, 21):
            moment = sh(2026, 11, day, 10, 0)
            contact_mark(party=sms_owner, channel=channel, at=moment, source=f"{channel}{day}")
    assert contact_check(party=sms_owner, channel="sms", at=sh(2026, 11, 24, 12, 0)).allowed
