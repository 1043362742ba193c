"""The receivables subledger: billing periods and runs, charges (應收), waivers (減免), credit
notes, late-fee assessments (滯納金), deposit releases, opening balances.

Charges are append-only money records: a posted charge's amount never changes. What is still
owed is `Charge.outstanding`, a cached balance that `services.charge_outstanding_recompute`
derives from its sources (approved waivers, credit notes, cancellation, and the payments
app's allocations through `wuye.billing.outstanding`). Every money movement here also reaches
the general ledger (`wuye.ledger`): the RECEIVABLE control account of an estate always equals
the sum of `outstanding` of its charges (`wuye billing-check` proves it).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.money import ZERO, MoneyField
from wuye.fees.models import FeeItem
from wuye.registry.models import Estate, Party, Unit

PERIOD_LENGTH = 7  # "2026-12"


class BillingPeriod(models.Model):
    """A month of an estate's billing (賬期). A closed period takes no more runs."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=PERIOD_LENGTH)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("billing period")
        verbose_name_plural = _("billing periods")
        ordering = ["estate_id", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "period"], name="billingperiod_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.estate_id} {self.period} {self.status}"


class BillingRun(models.Model):
    """One bill run (計費) of an estate (or every estate) for a period.

    draft -> previewed -> running -> posted | failed | cancelled. A failed (or killed) run is
    resumed by posting it again: charges are unique per (unit, item, period), so the resumed run
    adds only what is missing and posts only that delta to the ledger.

    While a run bills, the process running it writes `heartbeat_at` every `HEARTBEAT_SECONDS`
    (services.runs._heartbeat). A run still `running` with no heartbeat for `STALE_SECONDS`
    was killed with its worker (`is_stalled`): its page says so and offers to resume it; a
    run that is alive cannot be started a second time."""

    HEARTBEAT_SECONDS = 30
    STALE_SECONDS = 120  # four missed heartbeats

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PREVIEWED = "previewed", _("Previewed")
        RUNNING = "running", _("Running")
        POSTED = "posted", _("Posted")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        "draft": {"previewed", "running", "cancelled"},
        "previewed": {"previewed", "running", "cancelled"},
        "running": {"running", "posted", "failed"},
        "failed": {"running", "cancelled"},
        "posted": {"cancelled", "running"},
        "cancelled": set(),
    }

    estate = models.ForeignKey(
        Estate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("period"), max_length=PERIOD_LENGTH)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    as_of = models.DateField(_("run date"), help_text=_("Items not yet due for billing wait."))
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    units_total = models.PositiveIntegerField(_("units"), default=0)
    units_done = models.PositiveIntegerField(_("units done"), default=0)
    charges_created = models.PositiveIntegerField(_("charges created"), default=0)
    total_amount = MoneyField(_("total"), default=ZERO)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-created_at", "-id"]
        permissions = [("cancel_billingrun", "Can cancel a posted billing run")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.period}"

    def is_stalled(self, now=None) -> bool:
        """Running, but its process has given no sign of life for STALE_SECONDS (killed)."""
        from datetime import timedelta

        from django.utils import timezone

        if self.status != self.Status.RUNNING:
            return False
        last = self.heartbeat_at or self.started_at
        if last is None:
            return True
        now = now or timezone.now()
        return now - last > timedelta(seconds=self.STALE_SECONDS)

    @property
    def stalled(self) -> bool:
        return self.is_stalled()

    @property
    def progress_percent(self) -> int:
        if not self.units_total:
            return 100 if self.status == self.Status.POSTED else 0
        return min(100, round(100 * self.units_done / self.units_total))


class RunPosting(models.Model):
    """One general-ledger entry a run posted for (estate, fee item): the charges the run had
    created and not yet posted when it was written. The sum of a run's postings per (estate,
    item) equals the sum of its charges; a resumed run posts only the difference."""

    run = models.ForeignKey(BillingRun, on_delete=models.PROTECT, related_name="postings")
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(_("amount"))
    charges = models.PositiveIntegerField(_("charges"))
    entry_id = models.BigIntegerField(_("journal entry"))
    reversal_id = models.BigIntegerField(_("reversal entry"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("run posting")
        verbose_name_plural = _("run postings")
        ordering = ["run_id", "id"]

    def __str__(self) -> str:
        return f"run {self.run_id} item {self.fee_item_id}: {self.amount}"


class Charge(models.Model):
    """A receivable (應收): what one party owes for one unit, fee item and period.

    `party` is who paid the unit in that period (a mid-period change of owner splits the period
    by days into `part` 1, 2, ...; each owner gets the days they held the unit). `period` is the
    month the billing cycle starts. Regular charges are unique per (unit, item, period, part)
    while not cancelled, which makes a bill run idempotent."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular")
        LATE_FEE = "late_fee", _("Late fee")
        ADHOC = "adhoc", _("Ad hoc")
        OPENING = "opening", _("Opening balance")
        DEBIT_NOTE = "debit_note", _("Debit note")
        DEPOSIT = "deposit", _("Deposit")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        WAIVED = "waived", _("Waived")
        CANCELLED = "cancelled", _("Cancelled")

    # No database-level FOREIGN KEY on charges at all: PostgreSQL queues a deferred trigger
    # event per inserted row and FOREIGN KEY, even when the column is NULL (created_by, source
    # on a bill run's charges), and checks each at commit -- at a million charges that costs
    # more than the indexes. The run takes the ids from joins over the very tables they point
    # to; the ORM sets the others from objects it has; PROTECT still stops the ORM from
    # deleting a unit, party, item, user or principal charge that charges refer to.
    estate = models.ForeignKey(
        Estate, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="charges", db_index=False, db_constraint=False
    )
    party = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        related_name="charges",
        db_index=False,
        db_constraint=False,
    )
    fee_item = models.ForeignKey(
        FeeItem,
        on_delete=models.PROTECT,
        related_name="charges",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.REGULAR)
    period = models.CharField(_("period"), max_length=PERIOD_LENGTH)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    part = models.PositiveSmallIntegerField(_("part"), default=1)
    amount = MoneyField(_("amount"))
    outstanding = MoneyField(_("outstanding"))
    # For regular charges: the quantity billed (m² or 1) and the rate, shown on statements.
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    rate = models.DecimalField(_("rate"), max_digits=12, decimal_places=4, null=True, blank=True)
    bill_date = models.DateField(_("bill date"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    run = models.ForeignKey(
        BillingRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charges",
        db_index=False,
        db_constraint=False,
    )
    source = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="derived",
        db_index=False,
        db_constraint=False,
        help_text=_("The principal a late fee or debit note belongs to."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    entry_id = models.BigIntegerField(_("journal entry"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # A charge raised in a month before its period (billed in advance, paid ahead) was credited
    # to the contract liability (合同负债); the monthly recognition that moved it to revenue.
    # Null: not deferred, or not yet recognised (`services.revenue`).
    recognition_id = models.BigIntegerField(_("revenue recognition"), null=True, blank=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["period_start", "unit_id", "fee_item_id", "part", "id"]
        permissions = [
            ("add_adhoc_charge", "Can raise ad hoc charges"),
            ("import_opening", "Can import opening balances"),
            ("stop_fee", "Can stop a unit's fee"),
            ("view_statement", "Can view statements of account"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "fee_item", "period", "part"],
                condition=Q(kind="regular") & ~Q(status="cancelled"),
                name="charge_regular_unique",
            ),
            # Partial on "not cancelled", like the regular key above: a cancelled run releases
            # its metered consumption and the next run bills it again under the same key
            # (`meter-reading:<id>`). Moving the key aside on cancel instead would edit a posted
            # row beyond its status fields, and lose which reading the cancelled charge billed.
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False) & ~Q(status="cancelled"),
                name="charge_idempotency_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(
                condition=Q(outstanding__gte=0) & Q(outstanding__lte=models.F("amount")),
                name="charge_outstanding_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["run", "fee_item"], name="charge_run_idx"),
            models.Index(fields=["party", "period_start"], name="charge_party_idx"),
            models.Index(fields=["estate", "status", "due_date"], name="charge_estate_open_idx"),
            models.Index(
                fields=["source"], condition=Q(source__isnull=False), name="charge_source_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.unit_id} {self.fee_item_id} {self.amount}"

    @property
    def label(self) -> str:
        """What the charge is for, as printed: `2026-12 物业服务费 89.50㎡×2.8000`."""
        if self.description:
            return self.description
        text = f"{self.period} {self.fee_item.name}"
        if self.quantity is not None and self.rate is not None:
            text += f" {self.quantity}㎡×{self.rate.normalize():f}"
        elif self.rate is not None:
            text += f" {self.rate.normalize():f}"
        return text

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Waiver(models.Model):
    """A waiver (減免) of part or all of a charge: requested by finance, decided by a
    supervisor (permission `billing.approve_waiver`), then posted: Dr WAIVERS, Cr RECEIVABLE."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        # reversed with an entry when what granted it is undone (a voided window payment)
        REVERSED = "reversed", _("Reversed")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="waivers")
    amount = MoneyField(_("amount"))
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)
    entry_id = models.BigIntegerField(_("journal entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("waiver")
        verbose_name_plural = _("waivers")
        ordering = ["-requested_at", "-id"]
        permissions = [("approve_waiver", "Can approve or reject waivers")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="waiver_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"waiver {self.amount} on {self.charge_id}"


class CreditNote(models.Model):
    """A correction that lowers a charge (紅字沖減): Dr the item's account, Cr RECEIVABLE. A
    correction upwards is a debit note: a new charge of kind `debit_note` with `source` set."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="credit_notes")
    amount = MoneyField(_("amount"))
    reason = models.CharField(_("reason"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    entry_id = models.BigIntegerField(_("journal entry"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=128, unique=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="creditnote_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"credit note {self.amount} on {self.charge_id}"


class LateFeeAssessment(models.Model):
    """The log of late-fee assessments (滯納金計提): one row per principal charge and date, so
    assessing twice on the same day adds nothing. `late_fee` is the charge raised (null when
    nothing was due, e.g. the cap was reached); `amount` what the day added."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    principal = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="assessments")
    as_of = models.DateField(_("assessed on"))
    principal_unpaid = MoneyField(_("unpaid principal"))
    days_overdue = models.PositiveIntegerField(_("days overdue"))
    daily_rate = models.DecimalField(_("daily rate"), max_digits=8, decimal_places=6)
    cap_ratio = models.DecimalField(_("cap ratio"), max_digits=5, decimal_places=4)
    amount = MoneyField(_("amount"))
    late_fee = models.OneToOneField(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="assessment"
    )
    # The principal's earlier late fee, still untouched, that `late_fee` replaced (cancelled):
    # an owner sees one late-fee line per overdue charge with its days and total, not a line
    # a day. Statements leave a replaced line and its cancellation out.
    replaced = models.OneToOneField(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("late-fee assessment")
        verbose_name_plural = _("late-fee assessments")
        ordering = ["-as_of", "principal_id"]
        constraints = [
            models.UniqueConstraint(fields=["principal", "as_of"], name="latefee_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"late fee {self.amount} on {self.principal_id} ({self.as_of})"


class DepositRelease(models.Model):
    """Giving back (refund) or keeping (forfeit) a paid deposit, decided by a supervisor.

    Refund: Dr DEPOSITS, Cr REFUNDS_PAYABLE (the payments app pays it out). Forfeit: Dr DEPOSITS,
    Cr the item's revenue account."""

    class Action(models.TextChoices):
        REFUND = "refund", _("Refund")
        FORFEIT = "forfeit", _("Forfeit")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="releases")
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    amount = MoneyField(_("amount"))
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    entry_id = models.BigIntegerField(_("journal entry"), null=True, blank=True)

    class Meta:
        verbose_name = _("deposit release")
        verbose_name_plural = _("deposit releases")
        ordering = ["-requested_at", "-id"]
        permissions = [("approve_depositrelease", "Can approve deposit refunds and forfeits")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="depositrelease_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.amount} of {self.charge_id}"


class PaidUpTo(models.Model):
    """From the old system: the unit's fee item is paid up to and including `paid_to`. Bill runs
    do not bill those days again (a cycle ending on or before it is skipped, one that straddles
    it is billed from the next day)."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="+")
    paid_to = models.DateField(_("paid up to"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("paid-up-to date")
        verbose_name_plural = _("paid-up-to dates")
        ordering = ["unit_id", "fee_item_id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "fee_item"], name="paidupto_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.fee_item_id} paid to {self.paid_to}"


class FeeStop(models.Model):
    """A unit's fee item stops from `from_date` (sold back, merged, demolished): runs bill the
    days before it and nothing after."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="+")
    from_date = models.DateField(_("stops from"))
    reason = models.CharField(_("reason"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fee stop")
        verbose_name_plural = _("fee stops")
        ordering = ["unit_id", "fee_item_id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "fee_item"], name="feestop_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.fee_item_id} stops {self.from_date}"


class PrepaymentMovement(models.Model):
    """The per-party prepayment subledger (預存款): signed movements, balance = their sum.

    Billing writes the opening balances moved in from the old system (kind `opening`); the
    payments app adds deposits of money (`topup`) and uses of it (`applied`, negative). The
    PREPAYMENTS account of the ledger equals the sum per estate. `fee_item` earmarks money
    for one item (e.g. prepaid parking) or is null for any item."""

    class Kind(models.TextChoices):
        OPENING = "opening", _("Opening balance")
        TOPUP = "topup", _("Top-up")
        APPLIED = "applied", _("Applied to a charge")
        REFUND = "refund", _("Refunded")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="prepayments")
    fee_item = models.ForeignKey(
        FeeItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = MoneyField(_("amount"))
    date = models.DateField(_("date"))
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    source_type = models.CharField(max_length=32, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    entry_id = models.BigIntegerField(_("journal entry"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("prepayment movement")
        verbose_name_plural = _("prepayment movements")
        ordering = ["party_id", "date", "id"]
        indexes = [models.Index(fields=["party", "fee_item"], name="prepayment_party_idx")]

    def __str__(self) -> str:
        return f"{self.party_id} {self.kind} {self.amount}"


class RevenueRecognition(models.Model):
    """The monthly entry (确认收入) that moves the fees of charges whose period has come from
    the contract liability (合同负债, `chart.CONTRACT_LIABILITY`) to their items' revenue.

    One per estate and month: recognising a month again posts nothing. It takes every charge
    deferred when raised whose period starts in or before `month` and is not yet recognised
    (so a month missed is caught up by the next one); the charges name it (`recognition_id`)."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))  # its first day
    amount = MoneyField(_("amount"), default=ZERO)
    charges = models.PositiveIntegerField(_("charges"), default=0)
    entry_id = models.BigIntegerField(_("journal entry"), null=True, blank=True)
    done_at = models.DateTimeField(_("recognised"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("revenue recognition")
        verbose_name_plural = _("revenue recognitions")
        ordering = ["estate_id", "-month"]
        permissions = [("recognise_revenue", "Can recognise deferred revenue")]
        constraints = [
            models.UniqueConstraint(fields=["estate", "month"], name="revenuerecognition_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.estate_id} {self.month:%Y-%m} {self.amount}"
