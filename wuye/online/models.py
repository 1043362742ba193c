"""Online payments: merchant accounts chosen per fee item, payment orders and their state
machine, the raw notification inbox, the exception queue, bank auto-debit (mandates, bank file
layouts, batches and their items), and the sandbox gateway's own records.

Lock order (after payments' unit -> charge -> payment -> allocation -> receipt): the payment
order row is locked first (`select_for_update`), then payments.payment_take takes its locks."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import Charge
from wuye.core.crypto import EncryptedTextField
from wuye.core.money import ZERO, MoneyField
from wuye.fees.models import FeeItem
from wuye.payments.models import CashierShift, Payment
from wuye.registry.models import Estate, Party


class Provider(models.TextChoices):
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


class MerchantAccount(models.Model):
    """A merchant account (商戶號) an estate collects through. `code` names its credentials in
    WUYE_PAY["merchants"]; in mode `sandbox` the sandbox gateway's test keys are used. The
    default account of a provider takes every fee item without a route of its own."""

    class Mode(models.TextChoices):
        LIVE = "live", _("Live")
        SANDBOX = "sandbox", _("Sandbox")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=8, choices=Provider.choices)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.LIVE)
    is_default = models.BooleanField(_("default for the estate"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("merchant account")
        verbose_name_plural = _("merchant accounts")
        ordering = ["estate_id", "provider", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["estate", "provider"],
                condition=Q(is_default=True),
                name="merchant_one_default_per_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"


class MerchantRoute(models.Model):
    """Fee item -> merchant account per provider: e.g. water and electricity collected for the
    utilities through their own account."""

    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=8, choices=Provider.choices)
    account = models.ForeignKey(MerchantAccount, on_delete=models.PROTECT, related_name="routes")

    class Meta:
        verbose_name = _("merchant route")
        verbose_name_plural = _("merchant routes")
        ordering = ["fee_item_id", "provider"]
        constraints = [
            models.UniqueConstraint(fields=["fee_item", "provider"], name="merchant_route_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.fee_item} -> {self.account}"


class PaymentOrder(models.Model):
    """A payment order (支付訂單): the charges an owner (or the window) chose, their total, the
    merchant account, and how far it got. `out_trade_no` is our merchant order number, unique,
    sent to the provider. States: created -> paid | closed | expired; paid, closed and expired
    are final. Money for a closed or expired order goes to the exception queue."""

    class Status(models.TextChoices):
        CREATED = "created", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CLOSED = "closed", _("Closed")
        EXPIRED = "expired", _("Expired")

    TRANSITIONS = {
        "created": {"paid", "closed", "expired"},
        "paid": set(),
        "closed": set(),
        "expired": set(),
    }

    class Kind(models.TextChoices):
        NATIVE = "native", _("QR code (Native)")
        JSAPI = "jsapi", _("In WeChat (JSAPI)")
        WAP = "wap", _("Mobile web (Alipay)")
        MICROPAY = "micropay", _("Payment code at the window")

    class Source(models.TextChoices):
        PORTAL = "portal", _("Owner portal")
        WINDOW = "window", _("Cashier window")
        API = "api", _("API")

    out_trade_no = models.CharField(_("order number"), max_length=32, unique=True)
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="payment_orders")
    merchant = models.ForeignKey(MerchantAccount, on_delete=models.PROTECT, related_name="orders")
    provider = models.CharField(_("provider"), max_length=8, choices=Provider.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.PORTAL
    )
    amount = MoneyField(_("amount"))
    description = models.CharField(_("description"), max_length=127)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.CREATED, db_index=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    # What the provider answered when the order was placed.
    code_url = models.CharField(max_length=500, blank=True)
    pay_url = models.TextField(blank=True)
    prepay_id = models.CharField(max_length=64, blank=True)
    start_error = models.CharField(_("could not be placed"), max_length=255, blank=True)
    # The provider's payment.
    transaction_id = models.CharField(_("provider transaction"), max_length=64, blank=True)
    paid_amount = MoneyField(_("amount paid"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="online_order"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_queried_at = models.DateTimeField(_("last queried"), null=True, blank=True)
    # At the window: the cashier and shift the money lands in.
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shift = models.ForeignKey(
        CashierShift, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_url = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("payment order")
        verbose_name_plural = _("payment orders")
        ordering = ["-created_at", "-id"]
        permissions = [("manage_online", "Can manage online payments and their exceptions")]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "transaction_id"],
                condition=~Q(transaction_id=""),
                name="order_provider_transaction_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
        ]
        indexes = [
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status="created"),
                name="order_pending_idx",
            ),
            models.Index(fields=["party", "created_at"], name="order_party_idx"),
        ]

    def __str__(self) -> str:
        return self.out_trade_no

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.CREATED


class PaymentOrderCharge(models.Model):
    """One charge chosen for an order, with what it owed when the order was made."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.CASCADE, related_name="lines")
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(_("amount"))

    class Meta:
        verbose_name = _("charge of an order")
        verbose_name_plural = _("charges of orders")
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "charge"], name="order_charge_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.charge_id} {self.amount}"


class InboxNotification(models.Model):
    """Every notification a provider sent, raw (body and headers), stored with the result of
    its verification before anything acts on it. A verified event is stored once per
    (provider, event id); a resend of it counts `deliveries`. Rejected ones are kept, each, for
    the log (their event id is only claimed, never trusted). A verified one keeps the
    decrypted `transaction` it says; `settled_at` is when it was acted on (posted, found a
    duplicate, queued as an exception or refused). `pending` is being settled by the request
    that brought it; `queued` was acknowledged and waits for the inbox worker."""

    class Verdict(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        QUEUED = "queued", _("Acknowledged, to be posted")
        POSTED = "posted", _("Posted")
        DUPLICATE = "duplicate", _("Already paid")
        NOT_PAID = "not_paid", _("Not a payment")
        REFUSED = "refused", _("Refused")
        EXCEPTION = "exception", _("To the exception queue")
        ERROR = "error", _("Error")

    provider = models.CharField(_("provider"), max_length=8, choices=Provider.choices)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    headers = models.JSONField(_("headers"), default=dict)
    body = models.TextField(_("body"))
    remote_addr = models.CharField(max_length=45, blank=True)
    verdict = models.CharField(_("verification"), max_length=8, choices=Verdict.choices)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    event_id = models.CharField(_("event id"), max_length=64, null=True, blank=True)
    claimed_event_id = models.CharField(max_length=64, blank=True)
    out_trade_no = models.CharField(max_length=64, blank=True, db_index=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    order = models.ForeignKey(
        PaymentOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    deliveries = models.PositiveIntegerField(_("times received"), default=1)
    last_received_at = models.DateTimeField(_("last received"), auto_now_add=True)
    # The verified, decrypted word of the provider (`providers.Transaction` as JSON): what
    # the inbox worker posts from when notifications are acknowledged before posting.
    transaction = models.JSONField(_("transaction"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)

    class Meta:
        verbose_name = _("provider notification")
        verbose_name_plural = _("provider notifications")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(outcome="queued"), name="inbox_queued_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"],
                condition=Q(event_id__isnull=False),
                name="inbox_provider_event_unique",
            ),
            models.CheckConstraint(
                condition=Q(verdict="verified", event_id__isnull=False)
                | Q(verdict="rejected", event_id__isnull=True),
                name="inbox_only_verified_events_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id or self.claimed_event_id} {self.verdict}"


class PaymentException(models.Model):
    """Money a provider took that could not simply be posted (異常款): paid for a closed or
    expired order, a paid amount that differs from the order's, charges settled meanwhile, a
    posting the books refused. Unique per provider transaction.

    The money is in the books at once: `entry_id` is its entry Dr the channel's clearing
    account, Cr the channel's suspense account (待查明款項, `services.suspense`), dated
    `business_date`. Staff then move it out with a second entry (`out_entry_id`): credit it
    to the owner (a payment / prepayment), refund it through the provider, or write it off
    (one person asks with a reason, another approves). Items queued before the suspense
    account existed (no `entry_id`) are booked when first touched."""

    class Reason(models.TextChoices):
        ORDER_CLOSED = "order_closed", _("Paid after the order was closed")
        ORDER_EXPIRED = "order_expired", _("Paid after the order expired")
        AMOUNT_MISMATCH = "amount_mismatch", _("Paid amount differs from the order")
        UNKNOWN_ORDER = "unknown_order", _("No such order")
        MERCHANT_MISMATCH = "merchant_mismatch", _("Paid to another merchant account")
        CHARGES_SETTLED = "charges_settled", _("The charges were settled meanwhile")
        PAID_TWICE = "paid_twice", _("The order was paid twice")
        POSTING_FAILED = "posting_failed", _("The books refused the posting")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CREDITED = "credited", _("Credited to the owner")
        REFUNDED = "refunded", _("Refunded")
        WRITTEN_OFF = "written_off", _("Written off")
        # before the suspense account: closed by one person, never in the books
        DISMISSED = "dismissed", _("Dismissed")

    provider = models.CharField(_("provider"), max_length=8, choices=Provider.choices)
    transaction_id = models.CharField(_("provider transaction"), max_length=64)
    out_trade_no = models.CharField(_("order number"), max_length=64, blank=True)
    order = models.ForeignKey(
        PaymentOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="exceptions"
    )
    estate = models.ForeignKey(
        Estate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = MoneyField(_("amount"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refund_no = models.CharField(max_length=64, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    business_date = models.DateField(_("booked on"), null=True, blank=True)
    entry_id = models.BigIntegerField(_("suspense entry"), null=True, blank=True)
    out_entry_id = models.BigIntegerField(_("entry moving it out"), null=True, blank=True)
    write_off_reason = models.CharField(_("reason to write off"), max_length=255, blank=True)
    write_off_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    write_off_requested_at = models.DateTimeField(_("write-off asked"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment exception")
        verbose_name_plural = _("payment exceptions")
        ordering = ["status", "-created_at", "-id"]
        permissions = [("approve_write_off", "Can approve writing off suspense money")]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "transaction_id"], name="exception_transaction_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.amount} ({self.transaction_id})"


# --- bank transfers and auto-debit -----------------------------------------------------------


class BankFileLayout(models.Model):
    """How one bank wants its auto-debit (代扣) files: the export's columns and the return
    file's, as CSV or fixed width, in its encoding.

    `export_columns`: [{"field": "account_number", "width": 19, "align": "left", "pad": " ",
    "title": "账号"}, ...]; fields: seq, reference, account_number, account_name, amount,
    amount_fen, party_ref, estate, date, mandate, text:<literal>.
    `return_columns`: {"reference": 0, "status": 3, "reason": 4, "amount": 2} (CSV column index)
    or {"reference": [0, 20], ...} (fixed width [start, end)). `success_codes`: the status
    values meaning debited; `reason_map`: the bank's reason code -> our failure reason."""

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        FIXED = "fixed", _("Fixed width")

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("bank"), max_length=100)
    format = models.CharField(_("format"), max_length=5, choices=Format.choices)
    encoding = models.CharField(_("encoding"), max_length=10, default="gbk")
    delimiter = models.CharField(_("delimiter"), max_length=2, default=",", blank=True)
    header_row = models.BooleanField(_("header row"), default=True)
    line_ending = models.CharField(max_length=2, default="\r\n")
    export_columns = models.JSONField(_("export columns"), default=list)
    return_columns = models.JSONField(_("return columns"), default=dict)
    return_header_rows = models.PositiveSmallIntegerField(_("return header rows"), default=1)
    success_codes = models.JSONField(_("success codes"), default=list)
    reason_map = models.JSONField(_("reason codes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("bank file layout")
        verbose_name_plural = _("bank file layouts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DebitMandate(models.Model):
    """A party's authorisation (代扣協議) for the bank to debit an account for property fees."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLED = "cancelled", _("Cancelled")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="debit_mandates")
    bank = models.ForeignKey(BankFileLayout, on_delete=models.PROTECT, related_name="mandates")
    reference = models.CharField(_("mandate number"), max_length=32, unique=True)
    account_name = models.CharField(_("account holder"), max_length=100)
    account_number = EncryptedTextField(_("account number"))
    account_tail = models.CharField(max_length=4, blank=True, editable=False)
    limit = MoneyField(_("limit per debit"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    signed_on = models.DateField(_("signed on"))
    # the scan of the form the owner signed (served only through an estate-scoped page)
    signed_form = models.FileField(_("signed form"), upload_to="mandates/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("auto-debit mandate")
        verbose_name_plural = _("auto-debit mandates")
        ordering = ["estate_id", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "bank"],
                condition=Q(status="active"),
                name="mandate_one_active_per_bank",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.account_name} ****{self.account_tail}"

    def save(self, *args, **kwargs):
        self.account_tail = (self.account_number or "")[-4:]
        super().save(*args, **kwargs)


class DebitBatch(models.Model):
    """One auto-debit run for one bank: the file sent, then the bank's return file."""

    class Status(models.TextChoices):
        EXPORTED = "exported", _("Sent to the bank")
        RETURNED = "returned", _("Return file imported")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    bank = models.ForeignKey(BankFileLayout, on_delete=models.PROTECT, related_name="batches")
    number = models.CharField(_("batch"), max_length=32, unique=True)
    debit_date = models.DateField(_("debit date"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.EXPORTED
    )
    total = MoneyField(_("total"), default=ZERO)
    count = models.PositiveIntegerField(_("items"), default=0)
    succeeded = models.PositiveIntegerField(_("debited"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("auto-debit batch")
        verbose_name_plural = _("auto-debit batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class DebitItem(models.Model):
    """One party's debit in a batch: the charges it pays, then what the bank said."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the bank")
        DEBITED = "debited", _("Debited")
        FAILED = "failed", _("Failed")

    class Failure(models.TextChoices):
        INSUFFICIENT_FUNDS = "insufficient_funds", _("Insufficient funds")
        ACCOUNT_CLOSED = "account_closed", _("Account closed")
        ACCOUNT_FROZEN = "account_frozen", _("Account frozen")
        NAME_MISMATCH = "name_mismatch", _("Account name does not match")
        MANDATE_REVOKED = "mandate_revoked", _("Mandate revoked at the bank")
        LIMIT_EXCEEDED = "limit_exceeded", _("Over the account's limit")
        OTHER = "other", _("Other")

    batch = models.ForeignKey(DebitBatch, on_delete=models.PROTECT, related_name="items")
    seq = models.PositiveIntegerField(_("line"))
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    mandate = models.ForeignKey(DebitMandate, on_delete=models.PROTECT, related_name="items")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(_("amount"))
    charge_ids = models.JSONField(default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    failure = models.CharField(_("failure"), max_length=20, choices=Failure.choices, blank=True)
    bank_code = models.CharField(_("bank's code"), max_length=20, blank=True)
    bank_message = models.CharField(_("bank's message"), max_length=255, blank=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("auto-debit item")
        verbose_name_plural = _("auto-debit items")
        ordering = ["batch_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "seq"], name="debititem_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} {self.status}"


# --- the sandbox gateway ---------------------------------------------------------------------


class SandboxKeyring(models.Model):
    """The sandbox's test keys (one row): merchant, platform and Alipay key pairs made on first
    use. They sign nothing real; a live merchant never uses them."""

    name = models.CharField(max_length=20, unique=True, default="default")
    material = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox keyring")
        verbose_name_plural = _("sandbox keyrings")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _token() -> str:
    return secrets.token_urlsafe(12)


class SandboxTrade(models.Model):
    """The sandbox provider's own record of a trade (what WeChat Pay or Alipay would know)."""

    provider = models.CharField(max_length=8, choices=Provider.choices)
    merchant_id = models.CharField(max_length=32)
    out_trade_no = models.CharField(max_length=64)
    token = models.CharField(max_length=32, unique=True, default=_token)
    transaction_id = models.CharField(max_length=64, blank=True)
    amount = MoneyField()
    description = models.CharField(max_length=256, blank=True)
    notify_url = models.CharField(max_length=500, blank=True)
    return_url = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=16, default="NOTPAY")
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded = MoneyField(default=ZERO)
    event_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("sandbox trade")
        verbose_name_plural = _("sandbox trades")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "merchant_id", "out_trade_no"], name="sandbox_trade_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.out_trade_no} {self.state}"


class TransferStatement(models.Model):
    """A bank statement (銀行流水) of an estate's collection account, imported to post the
    owners' transfers by the payment reference in their memo. Once per file (its SHA-256)
    and estate: importing it again shows what the first import did."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("imported"), auto_now_add=True)
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("to"))
    lines_total = models.PositiveIntegerField(_("lines"))
    # the file as the bank gave it, gzip-compressed (an .xlsx as it is; statements imported
    # before compression came in raw): the evidence, and what the worker posts a long one
    # from. Read it with core.stored_files.file_unpack.
    content = models.BinaryField(editable=False)
    posted = models.PositiveIntegerField(_("posted"), default=0)
    to_check = models.PositiveIntegerField(_("to check"), default=0)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "sha256"], name="transfer_statement_once"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.first_day} - {self.last_day})"

    @property
    def lines_done(self) -> int:
        return self.lines.count()

    @property
    def is_complete(self) -> bool:
        """Every line of the file recorded (an import cut short is finished by the next)."""
        return self.lines_done >= self.lines_total

    def is_stalled(self, now=None, *, after_seconds: int = 120) -> bool:
        """Not complete, and no line recorded for a while: the worker is down, or the task
        failed (the importer may no longer post). Importing the file again finishes it."""
        from django.utils import timezone

        if self.is_complete:
            return False
        last = self.lines.aggregate(last=models.Max("recorded_at"))["last"] or self.uploaded_at
        return ((now or timezone.now()) - last).total_seconds() > after_seconds

    def recount(self) -> None:
        """posted / to check from the lines (after an import, or a line posted by hand)."""
        Outcome = TransferLine.Outcome
        outcomes = list(self.lines.values_list("outcome", flat=True))
        self.posted = sum(1 for o in outcomes if o in (Outcome.POSTED, Outcome.BY_HAND))
        self.to_check = sum(1 for o in outcomes if o in TransferLine.TO_CHECK)
        self.save(update_fields=["posted", "to_check"])


class TransferLine(models.Model):
    """One booked line of a bank statement and what became of it: a credit naming a payment
    reference is posted (or was already, by its bank reference); a credit without one, or one
    the books refused, waits for staff (to check); a debit (money out) is kept for the
    record and the reconciliation. A line waiting for staff is marked posted by hand when its
    bank reference is posted from the transfer form."""

    class Outcome(models.TextChoices):
        POSTED = "posted", _("Posted")
        ALREADY = "already", _("Already posted")
        NO_REFERENCE = "no_reference", _("No payment reference")
        REFUSED = "refused", _("Refused by the books")
        BY_HAND = "by_hand", _("Posted by hand")
        DEBIT = "debit", _("Money out")

    TO_CHECK = (Outcome.NO_REFERENCE, Outcome.REFUSED)

    statement = models.ForeignKey(TransferStatement, on_delete=models.PROTECT, related_name="lines")
    line_no = models.PositiveIntegerField(_("line"))
    booked_on = models.DateField(_("booked"))
    amount = MoneyField(_("amount"))
    bank_ref = models.CharField(_("bank reference"), max_length=64)
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    payer_name = models.CharField(_("paid by"), max_length=100, blank=True)
    payer_account = models.CharField(_("account"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        ordering = ["statement_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "line_no"], name="transfer_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.amount} {self.bank_ref}"
