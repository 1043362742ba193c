"""Formal demands as issued, posted and delivered: the proof uploaded and hashed, the letter
tracked through the outbox, the contact logged, the follow-up call set, the clock restarted."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from wuye.collection.limitation_selectors import party_clocks
from wuye.collection.models import ContactLog, FormalDemand, Task
from wuye.collection.services import demands
from wuye.core.errors import DomainError
from wuye.notifications.models import Message

from .books import charge
from .test_demand_pdf import pdf_pages


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owed(unit, owner):
    return [charge(unit, owner, "2026-09", "300.00"), charge(unit, owner, "2026-10", "300.00")]


def test_a_registered_demand_is_tracked_delivered_with_proof_and_followed_up(
    collector, case, owed, open_policy
):
    today = timezone.localdate()
    # given a demand issued by registered mail
    demand = demands.demand_issue(actor=collector, case=case, delivery="registered")
    assert demand.number.startswith("CJ-HY-") and str(demand.total) == "600.00"
    assert demand.periods == ["2026-09", "2026-10"] and demand.deadline == today + timedelta(15)
    with demand.pdf.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == demand.pdf_sha256
    # and its letter waits in the outbox
    letter = demand.message
    assert letter.channel == "letter" and letter.purpose == "formal_demand"
    # delivery is refused before the letter was posted with a tracking number
    with pytest.raises(DomainError, match="registered-mail number"):
        demands.demand_deliver(
            actor=collector, demand=demand, proof=b"x", proof_name="p.jpg", delivered_on=today
        )
    demands.demand_post(actor=collector, demand=demand, tracking_number="xa123456789cn")
    letter.refresh_from_db()
    assert letter.tracking_number == "XA123456789CN"
    # when the post office's delivery record is uploaded
    proof = b"%PDF EMS delivery record signed by owner"
    demand = demands.demand_deliver(
        actor=collector,
        demand=demand,
        proof=proof,
        proof_name="ems.pdf",
        delivered_on=today,
        received_by="张伟",
    )
    # then the proof is kept with its hash and verifies
    assert demand.proof_sha256 == hashlib.sha256(proof).hexdigest()
    assert demands.demand_proof_verify(demand)
    letter.refresh_from_db()
    assert letter.status == Message.Status.DELIVERED
    # the contact log has the delivery with the proof attached (same hash)
    entry = ContactLog.objects.filter(case=case, channel="registered").get()
    assert demand.number in entry.said
    assert entry.attachments.get().sha256 == demand.proof_sha256
    # the collector has a follow-up call
    follow = Task.objects.get(case=case, kind="call")
    assert demand.number in follow.note and follow.due_on == today + timedelta(days=3)
    # and the limitation clock of both periods restarts from the delivery
    clocks = {c.period: c for c in party_clocks(case.party, today=today)}
    assert clocks["2026-09"].ends_on == today.replace(year=today.year + 3)


def test_a_tampered_proof_no_longer_verifies(collector, case, owed):
    demand = demands.demand_issue(actor=collector, case=case, delivery="hand")
    demand = demands.demand_deliver(
        actor=collector,
        demand=demand,
        proof=b"signed receipt",
        proof_name="r.jpg",
        delivered_on=timezone.localdate(),
        received_by="张伟",
    )
    with open(demand.proof.path, "wb") as fh:
        fh.write(b"another receipt")
    assert not demands.demand_proof_verify(demand)


def test_hand_delivery_needs_who_signed(collector, case, owed):
    demand = demands.demand_issue(actor=collector, case=case, delivery="hand")
    with pytest.raises(DomainError, match="who signed"):
        demands.demand_deliver(
            actor=collector,
            demand=demand,
            proof=b"r",
            proof_name="r.jpg",
            delivered_on=timezone.localdate(),
        )


def test_a_batch_prints_all_demands_in_one_pdf(collector, case, owed, estate, unit, tmp_path):
    from wuye.collection.models import ArrearsCase
    from wuye.registry.models import Party

    other = Party.objects.create(estate=estate, name="李娜", mobile="13900001111")
    charge(unit, other, "2026-08", "99.00")
    other_case = ArrearsCase.objects.create(
        estate=estate, party=other, opened_on=timezone.localdate(), amount=99
    )
    batch = demands.demands_issue_batch(actor=collector, cases=[case, other_case], delivery="hand")
    assert batch.count == 2 and FormalDemand.objects.filter(batch=batch).count() == 2
    with batch.file.open("rb") as fh:
        pages = pdf_pages(fh.read(), tmp_path)
    assert len([p for p in pages if "催缴通知书" in p]) == 2


def test_no_demand_for_nothing_overdue(collector, case):
    with pytest.raises(DomainError, match="owes nothing overdue"):
        demands.demand_issue(actor=collector, case=case, delivery="hand")


def test_the_letter_run_does_not_print_a_second_letter_for_a_demand(
    collector, case, owed, open_policy, make_staff, estate
):
    from wuye.notifications.services import letter_batch_create, message_queue, message_send

    # given a registered-mail demand whose letter the outbox handed to the print queue
    demand = demands.demand_issue(actor=collector, case=case, delivery="registered")
    assert message_send(message_id=demand.message.pk).status == "sent"
    # and an ordinary letter to the same owner waiting beside it
    notice = message_queue(
        party=case.party,
        purpose="formal_demand",
        template_code="reminder_formal",
        channel="letter",
        context={"amount": "1.00", "period": "2026-09", "due_date": "2026-12-31"},
        dedupe_key="stage3-letter",
    )
    assert message_send(message_id=notice.pk).status == "sent"
    # when the office prints the letter queue
    batch = letter_batch_create(
        actor=make_staff("customer_service", estates=[estate]), estate_id=estate.pk
    )
    # then only the ordinary letter is in it: the demand goes out as its own PDF
    assert batch.letters == 1 and list(batch.messages.all()) == [notice]
    # and the demand's letter is still tracked through the outbox
    demands.demand_post(actor=collector, demand=demand, tracking_number="XA987654321CN")
    demand.message.refresh_from_db()
    assert demand.message.tracking_number == "XA987654321CN" and demand.message.letter_batch is None


def test_a_registered_demand_is_refused_when_the_owner_refused_letters(collector, case, owed):
    from wuye.notifications.services import channel_opt_out

    channel_opt_out(actor=None, party=case.party, channel="letter", source="hotline")
    with pytest.raises(DomainError, match="deliver the demand by hand"):
        demands.demand_issue(actor=collector, case=case, delivery="registered")
    # by hand it is served
    assert demands.demand_issue(actor=collector, case=case, delivery="hand").total > 0
