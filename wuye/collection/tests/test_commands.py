"""`wuye dunning run`, `wuye contacts verify`, and reminders appearing in the contact log."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command

from wuye.collection.models import ArrearsCase, ContactLog
from wuye.collection.services.contacts import contacts_from_outbox
from wuye.collection.services.policies import policy_default
from wuye.notifications.models import Message

from .books import charge

pytestmark = pytest.mark.django_db
DUE = date(2026, 1, 28)


def test_dunning_run_command_then_the_log_verifies(
    capsys, estate, unit, owner, django_capture_on_commit_callbacks
):
    policy_default(estate=estate)
    charge(unit, owner, "2026-01", "300.00", due=DUE)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("dunning", "run", "--as-of", "2026-02-20", "--estate", "HY")
    out = capsys.readouterr().out
    assert "2026-02-20: 2 actions" in out and "opened 1" in out
    case = ArrearsCase.objects.get(party=owner)
    # the reminder went out (immediate tasks in tests) and is in the contact log by itself
    message = Message.objects.get(party=owner)
    assert message.status in ("sent", "delivered")
    assert contacts_from_outbox() == 1
    entry = ContactLog.objects.get(message=message)
    assert entry.case == case and entry.staff is None and entry.outcome == "sent"
    assert contacts_from_outbox() == 0  # once each
    call_command("contacts", "verify")
    assert "contact log intact" in capsys.readouterr().out


def test_contacts_verify_exits_1_on_a_break(
    capsys, estate, unit, owner, django_capture_on_commit_callbacks
):
    policy_default(estate=estate)
    charge(unit, owner, "2026-01", "300.00", due=DUE)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("dunning", "run", "--as-of", str(DUE + timedelta(days=2)))
    contacts_from_outbox()
    ContactLog.objects.update(said="edited afterwards")
    with pytest.raises(SystemExit) as exit_info:
        call_command("contacts", "verify")
    assert exit_info.value.code == 1
    assert "entry 1: edited" in capsys.readouterr().out
