"""Formal demands (催缴通知书): issue (one or a batch), post, deliver with proof.

Flow: `demand_issue` prints the demand from the books (`wuye.collection.demands`), keeps the
PDF and its SHA-256; a registered-mail demand also writes a letter to the outbox (purpose
`formal_demand`, template `reminder_formal`) so the letter run and its tracking follow the
existing path. `demand_post` records the registered-mail number on that letter
(`letter_tracking_record`); `demand_deliver` takes the proof of delivery -- the signed
receipt of a hand delivery, or the post office's delivery record -- hashes it, marks the
demand (and the letter) delivered, writes the contact log entry with the proof attached, and
gives the collector a follow-up call task. A delivered demand restarts the limitation clock
of the periods it lists (`limitation_selectors`).
"""

from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.audit.services import SystemActor, audit_record
from wuye.core.errors import DomainError
from wuye.notifications.models import Channel, Message, Purpose
from wuye.notifications.policy import has_open_opt_out
from wuye.notifications.services import letter_tracking_record, message_queue, message_send
from wuye.registry.services import require_estate, require_perm

from ..demands import DemandContent, demand_content, demand_pdf
from ..models import ArrearsCase, CaseStatus, ContactLog, DemandBatch, FormalDemand, Task
from ._resolution import (
    MAX_UPLOAD_BYTES,
    number_for,
    provisional_number,
    sha256,
    task,
    user_or_none,
)

DEADLINE_DAYS = 15
FOLLOW_UP_DAYS = 3
# The letter's tracking is the notifications app's; collection records it on the staff's behalf.
LETTERS = SystemActor("collection-demands")


def _check(actor, case: ArrearsCase, delivery: str) -> None:
    require_perm(actor, "collection.add_formaldemand")
    require_estate(actor, case.estate_id)
    if case.status == CaseStatus.CLOSED:
        raise DomainError(_("the case is closed"), field="case")
    if delivery not in FormalDemand.Delivery.values:
        raise DomainError(_("choose registered mail or hand delivery"), field="delivery")
    if delivery == FormalDemand.Delivery.REGISTERED_MAIL and has_open_opt_out(
        case.party_id, Channel.LETTER
    ):
        # never by a channel the owner refused (issue 11 §14): a visit with a signed receipt
        raise DomainError(
            _("the owner has refused letters: deliver the demand by hand"), field="delivery"
        )


def _create(
    *, actor, case: ArrearsCase, content: DemandContent, delivery: str, batch, pdf_bytes: bytes
) -> FormalDemand:
    demand = FormalDemand.objects.create(
        estate_id=case.estate_id,
        case=case,
        party_id=case.party_id,
        batch=batch,
        number=provisional_number(),
        issued_on=content.issued_on,
        deadline=content.deadline,
        principal=content.principal_total,
        late_fee=content.late_fee_total,
        total=content.total,
        periods=content.periods,
        charge_ids=content.charge_ids,
        pdf_sha256="",
        delivery=delivery,
        issued_by=user_or_none(actor),
    )
    demand.number = number_for("CJ", demand)
    return demand


def _finish(actor, demand: FormalDemand, pdf_bytes: bytes) -> FormalDemand:
    demand.pdf_sha256 = sha256(pdf_bytes)
    demand.pdf.save(f"{demand.number}.pdf", ContentFile(pdf_bytes), save=False)
    if demand.delivery == FormalDemand.Delivery.REGISTERED_MAIL:
        demand.message = message_queue(
            party=demand.party,
            purpose=Purpose.FORMAL_DEMAND,
            template_code="reminder_formal",
            channel=Channel.LETTER,
            context={
                "amount": demand.total,
                "period": demand.periods[0] if demand.periods else "",
                "periods": ",".join(demand.periods),
                "due_date": str(demand.deadline),
                "demand_number": demand.number,
            },
            dedupe_key=f"collection.formaldemand:{demand.pk}",
            # The demand's own PDF is what goes in the envelope; the letter run skips it.
            printed_apart=True,
        )
    demand.save()
    audit_record(
        actor=actor,
        action="collection.demand_issue",
        subject=demand,
        after={
            "number": demand.number,
            "total": demand.total,
            "periods": demand.periods,
            "delivery": demand.delivery,
            "sha256": demand.pdf_sha256,
        },
    )
    return demand


def _content(case: ArrearsCase, *, today: date, deadline: date, number: str) -> DemandContent:
    content = demand_content(party=case.party, today=today, deadline=deadline, number=number)
    if content.total <= 0:
        raise DomainError(
            _("%(party)s owes nothing overdue: no demand") % {"party": case.party.name},
            field="case",
        )
    return content


@transaction.atomic
def demand_issue(
    *,
    actor,
    case: ArrearsCase,
    delivery: str,
    deadline: date | None = None,
    today: date | None = None,
) -> FormalDemand:
    """Issue one demand for the case's overdue charges (deadline default: 15 days)."""
    _check(actor, case, delivery)
    today = today or timezone.localdate()
    deadline = deadline or today + timedelta(days=DEADLINE_DAYS)
    if deadline <= today:
        raise DomainError(_("the final deadline must be after today"), field="deadline")
    content = _content(case, today=today, deadline=deadline, number="")
    demand = _create(
        actor=actor, case=case, content=content, delivery=delivery, batch=None, pdf_bytes=b""
    )
    content.number = demand.number
    return _finish(actor, demand, demand_pdf([content]))


@transaction.atomic
def demands_issue_batch(
    *,
    actor,
    cases: list[ArrearsCase],
    delivery: str,
    deadline: date | None = None,
    today: date | None = None,
) -> DemandBatch:
    """Issue a demand for each case and print them all as one PDF (each also kept alone)."""
    if not cases:
        raise DomainError(_("choose at least one case"), field="cases")
    estates = {c.estate_id for c in cases}
    if len(estates) != 1:
        raise DomainError(_("a batch is for one estate"), field="cases")
    today = today or timezone.localdate()
    deadline = deadline or today + timedelta(days=DEADLINE_DAYS)
    if deadline <= today:
        raise DomainError(_("the final deadline must be after today"), field="deadline")
    batch = DemandBatch.objects.create(estate_id=estates.pop(), created_by=user_or_none(actor))
    contents = []
    for case in sorted(cases, key=lambda c: c.pk):
        _check(actor, case, delivery)
        content = _content(case, today=today, deadline=deadline, number="")
        demand = _create(
            actor=actor, case=case, content=content, delivery=delivery, batch=batch, pdf_bytes=b""
        )
        content.number = demand.number
        _finish(actor, demand, demand_pdf([content]))
        contents.append(content)
    data = demand_pdf(contents)
    batch.count = len(contents)
    batch.file.save(f"demands-{batch.pk}.pdf", ContentFile(data), save=False)
    batch.save(update_fields=["count", "file"])
    audit_record(
        actor=actor, action="collection.demand_batch", subject=batch, after={"count": batch.count}
    )
    return batch


@transaction.atomic
def demand_post(
    *, actor, demand: FormalDemand, tracking_number: str, on: date | None = None
) -> FormalDemand:
    """The registered letter went to the post office: its tracking number."""
    require_perm(actor, "collection.change_formaldemand")
    require_estate(actor, demand.estate_id)
    demand = FormalDemand.objects.select_for_update().get(pk=demand.pk)
    if demand.delivery != FormalDemand.Delivery.REGISTERED_MAIL:
        raise DomainError(_("only registered mail has a tracking number"), field="tracking_number")
    if demand.status not in (FormalDemand.Status.ISSUED, FormalDemand.Status.SENT):
        raise DomainError(_("the demand is delivered already"), field="status")
    tracking_number = (tracking_number or "").strip().upper()
    if not 8 <= len(tracking_number) <= 40:
        raise DomainError(_("enter the registered-mail number"), field="tracking_number")
    demand.tracking_number = tracking_number
    demand.status = FormalDemand.Status.SENT
    demand.sent_on = on or timezone.localdate()
    demand.save(update_fields=["tracking_number", "status", "sent_on"])
    if demand.message_id:
        # The letter leaves the outbox now (it is at the post office), unless the contact
        # policy holds it; its tracking number is recorded either way.
        if demand.message.status == Message.Status.QUEUED:
            message_send(message_id=demand.message_id)
        letter_tracking_record(
            actor=LETTERS, message=demand.message, tracking_number=tracking_number
        )
    audit_record(
        actor=actor,
        action="collection.demand_post",
        subject=demand,
        after={"tracking_number": tracking_number},
    )
    return demand


@transaction.atomic
def demand_deliver(
    *,
    actor,
    demand: FormalDemand,
    proof: bytes,
    proof_name: str,
    delivered_on: date,
    received_by: str = "",
) -> FormalDemand:
    """The demand reached the owner: the proof (signed receipt, post office record) is kept
    with its SHA-256, logged as a contact, and a follow-up call is set."""
    from .contacts import Attachment, contact_record

    require_perm(actor, "collection.change_formaldemand")
    require_estate(actor, demand.estate_id)
    demand = FormalDemand.objects.select_for_update().get(pk=demand.pk)
    if demand.status == FormalDemand.Status.DELIVERED:
        raise DomainError(_("the demand is delivered already"), field="status")
    if demand.delivery == FormalDemand.Delivery.REGISTERED_MAIL and not demand.tracking_number:
        raise DomainError(
            _("record the registered-mail number before its delivery"), field="tracking_number"
        )
    if not proof:
        raise DomainError(_("upload the proof of delivery"), field="proof")
    if len(proof) > MAX_UPLOAD_BYTES:
        raise DomainError(_("the file is larger than 20 MB"), field="proof")
    if delivered_on > timezone.localdate() or delivered_on < demand.issued_on:
        raise DomainError(
            _("the delivery date must be between the issue date and today"), field="delivered_on"
        )
    received_by = (received_by or "").strip()
    if demand.delivery == FormalDemand.Delivery.HAND and not received_by:
        raise DomainError(_("who signed for it?"), field="received_by")
    demand.proof_sha256 = sha256(proof)
    demand.proof_name = proof_name[:200]
    demand.proof.save(f"{demand.number}-{proof_name}"[-150:], ContentFile(proof), save=False)
    demand.status = FormalDemand.Status.DELIVERED
    demand.delivered_on = delivered_on
    demand.received_by = received_by[:100]
    demand.save()
    if demand.message_id:
        demand.message.refresh_from_db()
        if demand.message.can_become(Message.Status.DELIVERED):
            letter_tracking_record(actor=LETTERS, message=demand.message, delivered=True)
    registered = demand.delivery == FormalDemand.Delivery.REGISTERED_MAIL
    contact_record(
        actor=actor,
        party=demand.party,
        case=demand.case,
        channel="registered" if registered else "in_person",
        outcome=ContactLog.Outcome.REACHED,
        said=_("Formal demand %(number)s for %(amount)s delivered%(how)s.")
        % {
            "number": demand.number,
            "amount": demand.total,
            "how": f" ({demand.tracking_number})" if registered else f", {received_by}",
        },
        inbound=True,
        attachments=[Attachment(kind="receipt", name=proof_name[:200], content=proof)],
    )
    task(
        case=demand.case,
        kind=Task.Kind.CALL,
        due_on=max(delivered_on + timedelta(days=FOLLOW_UP_DAYS), timezone.localdate()),
        note=_("Follow up the formal demand %(number)s (deadline %(deadline)s)")
        % {"number": demand.number, "deadline": demand.deadline},
        key=f"demand-followup:{demand.pk}",
    )
    audit_record(
        actor=actor,
        action="collection.demand_deliver",
        subject=demand,
        after={"delivered_on": delivered_on, "proof_sha256": demand.proof_sha256},
    )
    return demand


def demand_proof_verify(demand: FormalDemand) -> bool:
    """The stored proof still has the hash recorded when it was uploaded."""
    if not demand.proof:
        return False
    with demand.proof.open("rb") as fh:
        return sha256(fh.read()) == demand.proof_sha256
