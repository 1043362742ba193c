"""Invoice requests (開票申請): asked for at the window or later, issued by finance, who records
the invoice number and file (the tax e-invoice platform comes later)."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.audit.models import AuditEvent
from wuye.audit.services import audit_record, snapshot
from wuye.core.errors import DomainError
from wuye.registry.services import require_estate, require_perm

from ..models import InvoiceProfile, InvoiceRequest, Payment
from ._common import user_or_none


@transaction.atomic
def invoice_request(
    *, actor, payment: Payment, title: str = "", tax_number: str = "", email: str = ""
) -> InvoiceRequest:
    """Queue an invoice for `payment`; the title and tax number default to (and update) the
    party's invoice profile."""
    require_perm(actor, "payments.add_invoicerequest")
    require_estate(actor, payment.estate_id)
    if payment.is_voided:
        raise DomainError(_("the payment is void"), field="payment")
    if payment.channel == Payment.Channel.PREPAYMENT:
        raise DomainError(
            _("the invoice goes with the payment that brought the money"), field="payment"
        )
    profile = InvoiceProfile.objects.filter(party_id=payment.party_id).first()
    title = (title or "").strip() or (profile.title if profile else payment.party.name)
    tax_number = (tax_number or "").strip().upper() or (profile.tax_number if profile else "")
    email = (email or "").strip() or (profile.email if profile else "")
    if tax_number and not (15 <= len(tax_number) <= 20 and tax_number.isalnum()):
        raise DomainError(_("a tax number has 15 to 20 letters and digits"), field="tax_number")
    InvoiceProfile.objects.update_or_create(
        party_id=payment.party_id,
        defaults={"title": title[:100], "tax_number": tax_number, "email": email},
    )
    try:
        with transaction.atomic():
            req = InvoiceRequest.objects.create(
                estate_id=payment.estate_id,
                payment=payment,
                title=title[:100],
                tax_number=tax_number,
                email=email,
                requested_by=user_or_none(actor),
            )
    except IntegrityError as exc:
        raise DomainError(
            _("an invoice is already requested for this payment"), field="payment"
        ) from exc
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, subject=req, after=snapshot(req))
    return req


@transaction.atomic
def invoice_red_note(*, actor, request: InvoiceRequest, red_note_number: str) -> InvoiceRequest:
    """Finance records the red-letter note (红字发票) that cancels an issued invoice: only then
    may the payment be voided (`reversals.require_no_live_invoice`)."""
    require_perm(actor, "payments.issue_invoice")
    require_estate(actor, request.estate_id)
    request = InvoiceRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != InvoiceRequest.Status.ISSUED:
        raise DomainError(
            _("only an issued invoice gets a red-letter note (this one is %(status)s)")
            % {"status": request.get_status_display().lower()},
            field="request",
        )
    number = (red_note_number or "").strip()
    if not number:
        raise DomainError(_("enter the red-letter note number"), field="red_note_number")
    request.red_note_number = number[:40]
    request.status = InvoiceRequest.Status.RED_NOTED
    request.red_noted_by = user_or_none(actor)
    request.red_noted_at = timezone.now()
    request.save()
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, subject=request, summary=number)
    return request


@transaction.atomic
def invoice_issue(*, actor, request: InvoiceRequest, invoice_number: str, file=None):
    """Finance records the issued invoice's number (and file)."""
    require_perm(actor, "payments.issue_invoice")
    require_estate(actor, request.estate_id)
    request = InvoiceRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != InvoiceRequest.Status.REQUESTED:
        raise DomainError(
            _("the request is %(status)s") % {"status": request.get_status_display().lower()},
            field="request",
        )
    number = (invoice_number or "").strip()
    if not number:
        raise DomainError(_("enter the invoice number"), field="invoice_number")
    request.invoice_number = number[:40]
    if file is not None:
        request.invoice_file = file
    request.status = InvoiceRequest.Status.ISSUED
    request.issued_by = user_or_none(actor)
    request.issued_at = timezone.now()
    request.save()
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, subject=request, summary=number)
    return request
