"""The contact log is append-only and tamper-evident; calls respect the contact policy."""

import hashlib
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from wuye.collection.models import ContactLog
from wuye.collection.services.contacts import Attachment, contact_record, contacts_verify
from wuye.notifications.models import ContactMark, ContactPolicy

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _log(actor, owner, case, n=3):
    return [
        contact_record(
            actor=actor,
            party=owner,
            case=case,
            channel="call",
            outcome="reached",
            said=f"call {i}",
            reason="forgot",
        )
        for i in range(n)
    ]


def test_entries_chain_and_verify_clean(open_policy, collector, owner, case):
    entries = _log(collector, owner, case)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[1].prev_hash == entries[0].hash
    assert contacts_verify() == []
    # a call counts against the weekly cap
    assert ContactMark.objects.filter(party=owner, channel="call").count() == 3
    case.refresh_from_db()
    assert case.reason == "forgot" and case.last_contact_at is not None


def test_verify_catches_an_edited_row(open_policy, collector, owner, case):
    entries = _log(collector, owner, case)
    ContactLog.objects.filter(pk=entries[1].pk).update(response="owner agreed to pay")
    breaks = contacts_verify()
    assert [(b.seq, b.problem) for b in breaks] == [(2, "edited")]


def test_verify_catches_a_deleted_row(open_policy, collector, owner, case):
    entries = _log(collector, owner, case)
    ContactLog.objects.filter(pk=entries[1].pk).delete()
    problems = {(b.seq, b.problem) for b in contacts_verify()}
    assert (2, "missing") in problems and (3, "relinked") in problems


def test_verify_catches_a_deleted_last_row(open_policy, collector, owner, case):
    entries = _log(collector, owner, case)
    ContactLog.objects.filter(pk=entries[2].pk).delete()
    assert [b.problem for b in contacts_verify()] == ["head"]


def test_attachments_are_hashed_into_the_entry(open_policy, collector, owner, case):
    content = b"RIFF....WAVEfmt recording"
    entry = contact_record(
        actor=collector,
        party=owner,
        case=case,
        channel="visit",
        outcome="reached",
        attachments=[Attachment("recording", "call.wav", content)],
    )
    attachment = entry.attachments.get()
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert contacts_verify() == []
    type(attachment).objects.filter(pk=attachment.pk).update(sha256="0" * 64)
    assert [b.problem for b in contacts_verify()] == ["edited"]


def test_a_call_in_quiet_hours_is_not_made_and_recorded_as_suppressed(
    estate, collector, owner, case
):
    ContactPolicy.objects.create(estate=estate, quiet_start=time(21, 0), quiet_end=time(8, 0))
    night = datetime(2026, 12, 7, 22, 30, tzinfo=SH)
    entry = contact_record(
        actor=collector, party=owner, case=case, channel="call", outcome="reached", at=night
    )
    assert entry.outcome == "suppressed"
    assert "quiet hours" in entry.said
    assert not ContactMark.objects.filter(party=owner).exists()


def test_the_weekly_cap_stops_a_fourth_call(estate, collector, owner, case):
    ContactPolicy.objects.create(
        estate=estate, quiet_start=time(0, 0), quiet_end=time(0, 0), weekly_cap=3
    )
    entries = _log(collector, owner, case, n=4)
    assert [e.outcome for e in entries] == ["reached", "reached", "reached", "suppressed"]


def test_only_a_supervisor_marks_malicious(open_policy, collector, supervisor, owner, case):
    from wuye.core.errors import DomainError

    with pytest.raises(DomainError):
        contact_record(
            actor=collector,
            party=owner,
            case=case,
            channel="call",
            outcome="refused",
            reason="malicious",
        )
    entry = contact_record(
        actor=supervisor,
        party=owner,
        case=case,
        channel="call",
        outcome="refused",
        reason="malicious",
    )
    assert entry.reason == "malicious"
