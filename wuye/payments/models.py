"""The cashier window (收費窗口): payments (實收), allocations (沖銷), receipts (收據), voids and
refunds, invoice requests (開票申請), cashier shifts (班次) and the day-end close (日結).

Money records are append-only. A posted `Payment` never changes its amount, party or channel;
a void or a refund is a `PaymentReversal` that posts a mirror entry to the ledger and writes
negative `Allocation` rows, so every balance is the sum of its rows. The receivables subledger
(charges, prepayment movements) lives in billing; this app records who paid what and how it was
applied, and tells billing through `wuye.billing.outstanding` (see `apps.py`).

Lock order (STYLE.md habit 7): unit -> charge -> payment -> allocation -> receipt counter;
ledger posting (which locks the estate's voucher counter) is the last step of a transaction.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import Charge, Waiver
from wuye.core.money import ZERO, MoneyField
from wuye.core.names import person_name
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate, Party, Unit


def new_token() -> str:
    """An unguessable token for the public receipt verification page (`/r/<token>/`)."""
    return secrets.token_urlsafe(16)


class CashierSettings(models.Model):
    """How an estate's window works: small-change rounding (抹零), the prepayment cap, the
    receipt paper. One row per estate; an estate without one uses the defaults."""

    class RoundUnit(models.TextChoices):
        JIAO = "jiao", _("to the jiao (drop the fen)")
        YUAN = "yuan", _("to the yuan (drop jiao and fen)")

    class Paper(models.TextChoices):
        A5 = "a5", _("A5")
        A4 = "a4", _("A4")
        THERMAL_80 = "thermal80", _("80 mm thermal roll")

    estate = models.OneToOneField(Estate, on_delete=models.PROTECT, related_name="cashier_settings")
    round_small_change = models.BooleanField(
        _("round off small change (抹零)"),
        default=False,
        help_text=_("The window may drop the small change; it is recorded as a waiver."),
    )
    round_unit = models.CharField(
        _("round off"), max_length=4, choices=RoundUnit.choices, default=RoundUnit.JIAO
    )
    prepayment_cap_months = models.PositiveSmallIntegerField(
        _("prepayment cap (months of fees)"),
        null=True,
        blank=True,
        help_text=_("Neither paying ahead nor a prepayment balance may exceed this many months."),
    )
    receipt_paper = models.CharField(
        _("receipt paper"), max_length=10, choices=Paper.choices, default=Paper.A5
    )
    receipt_note = models.CharField(_("note printed on receipts"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("cashier settings")
        verbose_name_plural = _("cashier settings")
        ordering = ["estate_id"]

    def __str__(self) -> str:
        return f"{self.estate}"


class PrepaymentOffer(models.Model):
    """An offer for paying a recurring fee ahead (預交優惠): `discount_rate` off every paid
    month and/or `free_months` more months free (12+1), for at least `min_months`, until an
    early-bird deadline, usually refused while the unit has arrears. Granted as waivers."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    min_months = models.PositiveSmallIntegerField(_("for paying at least (months)"))
    discount_rate = models.DecimalField(
        _("discount (share off)"), max_digits=5, decimal_places=4, default=ZERO
    )
    free_months = models.PositiveSmallIntegerField(_("months free"), default=0)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until (early bird)"), null=True, blank=True)
    none_while_in_arrears = models.BooleanField(_("not while in arrears"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("prepayment offer")
        verbose_name_plural = _("prepayment offers")
        ordering = ["estate_id", "fee_item_id", "-min_months", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_rate__gte=0) & Q(discount_rate__lt=1),
                name="prepaymentoffer_discount_share",
            ),
            models.CheckConstraint(
                condition=Q(min_months__gt=0), name="prepaymentoffer_min_months_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def applies(self, *, months: int, on, in_arrears: bool) -> bool:
        return (
            self.is_active
            and months >= self.min_months
            and (self.valid_from is None or self.valid_from <= on)
            and (self.valid_until is None or on <= self.valid_until)
            and not (self.none_while_in_arrears and in_arrears)
        )


class ReceiptCounter(models.Model):
    """The last receipt number issued per estate and year. Incremented with the row locked
    inside the issuing transaction, so numbers are unique and gapless under concurrency."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("receipt counter")
        verbose_name_plural = _("receipt counters")
        ordering = ["estate_id", "year"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "year"], name="receipt_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.estate_id}/{self.year}: {self.last}"


class CashierShift(models.Model):
    """A cashier's shift (班次) at one estate's window: opened with a float, closed with the
    counted cash and POS totals; the variance is counted minus expected. Closed shifts are
    locked; a handed-over shift has been received by the next person or finance."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        HANDED_OVER = "handed_over", _("Handed over")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cashier_shifts"
    )
    business_date = models.DateField(_("business date"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    float_amount = MoneyField(_("float"), default=ZERO)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    expected_cash = MoneyField(_("expected cash"), null=True, blank=True)
    counted_cash = MoneyField(_("counted cash"), null=True, blank=True)
    expected_pos = MoneyField(_("expected POS"), null=True, blank=True)
    counted_pos = MoneyField(_("POS total"), null=True, blank=True)
    cash_variance = MoneyField(_("cash variance"), null=True, blank=True)
    pos_variance = MoneyField(_("POS variance"), null=True, blank=True)
    close_note = models.CharField(_("note"), max_length=255, blank=True)
    handed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handed_at = models.DateTimeField(_("handed over"), null=True, blank=True)

    class Meta:
        verbose_name = _("cashier shift")
        verbose_name_plural = _("cashier shifts")
        ordering = ["-opened_at", "-id"]
        permissions = [("close_any_shift", "Can close or receive any cashier's shift")]
        constraints = [
            models.UniqueConstraint(
                fields=["estate", "cashier"],
                condition=Q(status="open"),
                name="shift_one_open_per_cashier",
            ),
            models.CheckConstraint(condition=Q(float_amount__gte=0), name="shift_float_positive"),
        ]

    def __str__(self) -> str:
        # Shown in the audit log as written: the cashier's name (not the login), no status word
        # frozen in the writer's language.
        return f"{person_name(self.cashier)} {self.business_date}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Payment(models.Model):
    """Money received (實收) from a party: at the window, online, by bank transfer.

    `amount` is what was received. `allocated` of it settled charges, `prepaid` became the
    party's prepayment balance (general, or earmarked to `earmark`). `rounded_off` is the small
    change the window dropped (抹零), granted as waivers on the charges. Unique per (channel,
    external reference) -- a POS slip per (estate, terminal, business day, reference) -- and
    per idempotency key, so a resent request posts once."""

    class Channel(models.TextChoices):
        CASH = "cash", _("Cash")
        POS = "pos", _("POS card")
        TRANSFER = "transfer", _("Bank transfer")
        CHEQUE = "cheque", _("Cheque")
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")
        AUTODEBIT = "autodebit", _("Auto-debit")
        PREPAYMENT = "prepayment", _("From prepayment balance")

    WINDOW_CHANNELS = ("cash", "pos", "transfer", "cheque")

    class Source(models.TextChoices):
        WINDOW = "window", _("Cashier window")
        ONLINE = "online", _("Online")
        BANK = "bank", _("Bank statement")
        API = "api", _("API")
        AUTO = "auto", _("Applied automatically")

    class Status(models.TextChoices):
        POSTED = "posted", _("Posted")
        VOIDED = "voided", _("Voided")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="payments")
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    shift = models.ForeignKey(
        CashierShift, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    channel = models.CharField(_("method"), max_length=12, choices=Channel.choices)
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.WINDOW
    )
    external_ref = models.CharField(
        _("reference (POS voucher, bank ref)"), max_length=64, blank=True
    )
    # the POS terminal (终端号) that printed the slip: a slip's 6-digit reference repeats
    # across terminals and days, so it is unique per estate, terminal and business day only
    terminal = models.CharField(_("POS terminal"), max_length=32, blank=True)
    amount = MoneyField(_("amount received"))
    allocated = MoneyField(_("applied to charges"), default=ZERO)
    prepaid = MoneyField(_("to prepayment"), default=ZERO)
    rounded_off = MoneyField(_("small change waived"), default=ZERO)
    earmark = models.ForeignKey(
        FeeItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("prepayment earmarked for"),
    )
    business_date = models.DateField(_("business date"))
    # when the money moved (the bank's booking date, the day the provider took it): after a
    # day's sign-off it may precede `business_date`, the open day it was booked on
    value_date = models.DateField(_("value date"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.POSTED
    )
    payer_name = models.CharField(_("paid by"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    entry_id = models.BigIntegerField(_("journal entry"), null=True, blank=True)
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name=_("corrects payment"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_at", "-id"]
        permissions = [
            ("take_payment", "Can take payments at the window"),
            ("approve_reversal", "Can approve voids and refunds"),
            ("review_day", "Can review and sign off a business day"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_ref"],
                condition=~Q(external_ref="") & ~Q(channel="pos"),
                name="payment_channel_ref_unique",
            ),
            # a POS slip's reference: per estate, terminal and business day (issue 11 §10)
            models.UniqueConstraint(
                fields=["estate", "terminal", "business_date", "external_ref"],
                condition=~Q(external_ref="") & Q(channel="pos"),
                name="payment_pos_slip_unique",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="payment_idempotency_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(prepaid__gte=0) & Q(rounded_off__gte=0),
                name="payment_parts_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["estate", "business_date"], name="payment_estate_day_idx"),
            models.Index(fields=["party", "received_at"], name="payment_party_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.amount} ({self.party})"

    @property
    def is_voided(self) -> bool:
        return self.status == self.Status.VOIDED


class Allocation(models.Model):
    """How much of a payment (or of the prepayment balance, `payment` of channel
    `prepayment`) settled one charge (沖銷). A void or refund adds a negative row that
    `reverses` the original; what a charge has been paid is the sum of its rows."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="allocations")
    amount = MoneyField(_("amount"))
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["payment_id", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_not_zero"),
            models.CheckConstraint(
                condition=Q(amount__gt=0, reverses__isnull=True)
                | Q(amount__lt=0, reverses__isnull=False),
                name="allocation_sign_matches_reversal",
            ),
        ]
        indexes = [models.Index(fields=["charge"], name="allocation_charge_idx")]

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} to charge {self.charge_id}"


class PaymentEffect(models.Model):
    """What a window payment caused besides its allocations, so that its void undoes it
    (issue 11 §3): a waiver granted by the estate's policy (抹零, an offer's discount or free
    month) or a charge raised ahead of its bill run (paying ahead)."""

    class Kind(models.TextChoices):
        ROUND_OFF = "round_off", _("Small change dropped")
        OFFER = "offer", _("Pay-ahead offer")
        AHEAD = "ahead", _("Charge raised ahead")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="effects")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    waiver = models.ForeignKey(
        Waiver, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("payment effect")
        verbose_name_plural = _("payment effects")
        ordering = ["payment", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(waiver__isnull=False, charge__isnull=True) & ~Q(kind="ahead"))
                | Q(waiver__isnull=True, charge__isnull=False, kind="ahead"),
                name="payment_effect_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of payment {self.payment_id}"


class Receipt(models.Model):
    """A numbered receipt (收據) for a payment: `HY-2026-000123`, gapless per estate and year.

    `lines` is what was printed (items, periods, amounts), frozen at issue so a reprint shows
    the same. A void keeps the number and marks the receipt void; reprints count copies."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        VOID = "void", _("Void")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="receipt")
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    lines = models.JSONField(_("lines"), default=list)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ISSUED
    )
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prints = models.PositiveIntegerField(_("times printed"), default=0)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["estate_id", "-year", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["estate", "year", "number"], name="receipt_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        """The number as printed: `HY-2026-000123`."""
        return f"{self.estate.code}-{self.year}-{self.number:06d}"

    @property
    def is_void(self) -> bool:
        return self.status == self.Status.VOID


class PaymentReversal(models.Model):
    """A void (作廢) or refund (退款) of a payment, requested with a reason and approved by a
    supervisor; on approval it posts the mirror entry to the ledger and negative allocations.

    A void cancels the whole payment and marks its receipt void (the number is kept). A refund
    gives money back: from the prepayment part, and/or from charges it paid (`charges`:
    {charge id: amount}), which reopens those periods. Dated the day it is approved; when the
    original's day is signed off, that is the next open day (`corrects` on the new records)."""

    class Kind(models.TextChoices):
        VOID = "void", _("Void")
        REFUND = "refund", _("Refund")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved and posted")
        REJECTED = "rejected", _("Rejected")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="reversals")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    amount = MoneyField(_("amount"))
    from_prepayment = MoneyField(_("from prepayment"), default=ZERO)
    charges = models.JSONField(_("charges reopened"), default=dict, blank=True)
    refund_channel = models.CharField(
        _("paid back by"), max_length=12, choices=Payment.Channel.choices, blank=True
    )
    reason = models.CharField(_("reason"), max_length=255)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)
    business_date = models.DateField(_("business date"), null=True, blank=True)
    shift = models.ForeignKey(
        CashierShift, null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    entry_id = models.BigIntegerField(_("journal entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("void or refund")
        verbose_name_plural = _("voids and refunds")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="reversal_amount_positive"),
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(kind="void") & ~Q(status="rejected"),
                name="reversal_one_void_per_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} of payment {self.payment_id}"


class RefundPayout(models.Model):
    """Money paid back out of refunds payable (其他應付款-待退款): a deposit refund approved in
    billing (`release`), handed over in cash from a cashier's shift (it leaves the drawer: the
    shift's expected cash and the day's report count it) or sent by bank transfer. Posts
    Dr REFUNDS_PAYABLE, Cr the cash box or the bank. One payout per release: paying it again
    returns the payout already made (issue 11 §6)."""

    class Channel(models.TextChoices):
        CASH = "cash", _("Cash")
        TRANSFER = "transfer", _("Bank transfer")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="refund_payouts")
    release = models.OneToOneField(
        "billing.DepositRelease",
        on_delete=models.PROTECT,
        related_name="payout",
        verbose_name=_("deposit refund"),
    )
    amount = MoneyField(_("amount"))
    channel = models.CharField(_("paid out by"), max_length=12, choices=Channel.choices)
    external_ref = models.CharField(_("bank reference"), max_length=64, blank=True)
    shift = models.ForeignKey(
        CashierShift, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    business_date = models.DateField(_("business date"))
    paid_at = models.DateTimeField(_("paid out"), auto_now_add=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry_id = models.BigIntegerField(_("journal entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund paid out")
        verbose_name_plural = _("refunds paid out")
        ordering = ["-paid_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refundpayout_positive"),
            models.CheckConstraint(
                condition=~Q(channel="cash") | Q(shift__isnull=False),
                name="refundpayout_cash_in_a_shift",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.amount} ({self.party})"


class InvoiceProfile(models.Model):
    """A party's invoice title and tax number (發票抬頭, 稅號), remembered for next time."""

    party = models.OneToOneField(Party, on_delete=models.PROTECT, related_name="invoice_profile")
    title = models.CharField(_("invoice title"), max_length=100)
    tax_number = models.CharField(_("tax number"), max_length=30, blank=True)
    email = models.EmailField(_("email for the e-invoice"), blank=True)

    class Meta:
        verbose_name = _("invoice profile")
        verbose_name_plural = _("invoice profiles")
        ordering = ["party_id"]

    def __str__(self) -> str:
        return self.title


class InvoiceRequest(models.Model):
    """A request for a tax invoice (開票申請) for a payment, queued for finance, who records the
    invoice number and file once issued. One live request per payment."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ISSUED = "issued", _("Issued")
        CANCELLED = "cancelled", _("Cancelled")
        RED_NOTED = "red_noted", _("Red-letter note issued")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="invoice_requests")
    title = models.CharField(_("invoice title"), max_length=100)
    tax_number = models.CharField(_("tax number"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    invoice_number = models.CharField(_("invoice number"), max_length=40, blank=True)
    invoice_file = models.FileField(_("invoice file"), upload_to="invoices/", blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    # the red-letter note (红字发票/红字信息表) that cancels the issued invoice: needed before
    # the payment is voided (issue 11 §22)
    red_note_number = models.CharField(_("red-letter note number"), max_length=40, blank=True)
    red_noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    red_noted_at = models.DateTimeField(_("red-letter note recorded"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice request")
        verbose_name_plural = _("invoice requests")
        ordering = ["requested_at", "id"]
        permissions = [("issue_invoice", "Can record issued invoices")]
        constraints = [
            models.UniqueConstraint(
                fields=["payment"],
                # an invoice cancelled by its red-letter note may be asked for again
                condition=~Q(status__in=["cancelled", "red_noted"]),
                name="invoice_one_live_request_per_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"


class DayClose(models.Model):
    """The day-end close (日結) of an estate: the day's business report, frozen when finance
    signs the day off (繳費審核). After that nothing can be posted with that business date."""

    class Status(models.TextChoices):
        SIGNED_OFF = "signed_off", _("Signed off")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField(_("business date"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SIGNED_OFF
    )
    report = models.JSONField(_("daily business report"), default=dict)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(_("signed off"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("day-end close")
        verbose_name_plural = _("day-end closes")
        ordering = ["estate_id", "-business_date"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "business_date"], name="dayclose_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.estate_id} {self.business_date}"
