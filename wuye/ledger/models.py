"""The general ledger: accounts, journal entries (vouchers) and their postings.

Every money movement of billing, payments and collection reaches the ledger as one balanced
`JournalEntry` (sum of debits = sum of credits) with an idempotency key (DESIGN.md §4).

Append-only: a posted entry is never edited or deleted; a correction is a reversal (a mirror
entry that `reverses` the original). The ORM refuses updates and deletes here; on PostgreSQL the
database refuses them too and, at commit, refuses an entry that does not balance or has fewer
than two postings (migration 0003, a deferred constraint trigger as django-hordak uses).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.audit.models import AppendOnlyError
from wuye.core.money import ZERO, MoneyField


class PostedEntryError(AppendOnlyError):
    """A posted journal entry or posting was about to be changed or removed."""

    def __init__(self, message: str = "posted entries are never edited; reverse them instead"):
        super().__init__(message)


class Account(models.Model):
    """An account of the chart (e.g. `1122` 应收账款, `6001.PROPERTY`). Codes are shared by every
    estate; postings carry the estate, so each estate's books are kept without per-estate codes."""

    class Kind(models.TextChoices):
        ASSET = "asset", _("Asset")
        LIABILITY = "liability", _("Liability")
        INCOME = "income", _("Income")
        EXPENSE = "expense", _("Expense")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.CharField(_("parent account code"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def debit_normal(self) -> bool:
        """Assets and expenses grow on the debit side; liabilities and income on the credit."""
        return self.kind in (self.Kind.ASSET, self.Kind.EXPENSE)


class VoucherCounter(models.Model):
    """The last voucher number used per estate and year. `entry_post` increments it inside the
    posting transaction with the row locked, so numbers are gapless: a rolled-back posting
    rolls its number back too."""

    estate = models.ForeignKey("registry.Estate", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("voucher counter")
        verbose_name_plural = _("voucher counters")
        ordering = ["estate_id", "year"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "year"], name="ledger_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.estate_id}/{self.year}: {self.last}"


class JournalEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PostedEntryError()

    def delete(self):
        raise PostedEntryError()


class JournalEntry(models.Model):
    """A voucher (记账凭证): one balanced set of postings on one business date of one estate.

    `voucher_no` runs 1, 2, 3 ... without gaps per estate and year of `date`. `source_type` and
    `source_id` name what posted it ("billing_run" 12, "payment" 345). `reverses` points at the
    entry this one cancels; an entry is reversed at most once."""

    estate = models.ForeignKey(
        "registry.Estate", verbose_name=_("estate"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("date"))
    voucher_year = models.PositiveSmallIntegerField(_("voucher year"))
    voucher_no = models.PositiveIntegerField(_("voucher number"))
    memo = models.CharField(_("summary"), max_length=200, blank=True)
    source_type = models.CharField(_("source type"), max_length=32, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, unique=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = JournalEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["estate", "voucher_year", "voucher_no"], name="ledger_voucher_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["estate", "date"], name="ledger_entry_estate_date"),
            models.Index(fields=["source_type", "source_id"], name="ledger_entry_source"),
        ]
        permissions = [("export_vouchers", "Can export vouchers")]

    def __str__(self) -> str:
        return f"{self.voucher} {self.memo}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PostedEntryError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PostedEntryError()

    @property
    def voucher(self) -> str:
        """The voucher number as printed: `2026-00017`."""
        return f"{self.voucher_year}-{self.voucher_no:05d}"


class PostingQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PostedEntryError()

    def delete(self):
        raise PostedEntryError()


class Posting(models.Model):
    """One line of a voucher: an amount on the debit or the credit side of one account.

    `estate` and `date` are copied from the entry so balances per estate and date read one
    table through one index. `party_id` optionally names the party (receivables subledger) the
    line concerns; it is a plain number so the ledger does not depend on who the party is."""

    entry = models.ForeignKey(
        JournalEntry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="postings"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="postings"
    )
    estate = models.ForeignKey(
        "registry.Estate", verbose_name=_("estate"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("date"))
    party_id = models.BigIntegerField(_("party"), null=True, blank=True)
    debit = MoneyField(_("debit"), default=ZERO)
    credit = MoneyField(_("credit"), default=ZERO)

    objects = PostingQuerySet.as_manager()

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["entry_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(debit__gte=0) & Q(credit__gte=0), name="ledger_posting_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(debit=0) | Q(credit=0), name="ledger_posting_one_side"
            ),
            models.CheckConstraint(
                condition=Q(debit__gt=0) | Q(credit__gt=0), name="ledger_posting_not_zero"
            ),
        ]
        indexes = [
            models.Index(fields=["estate", "account", "date"], name="ledger_posting_balance"),
            models.Index(
                fields=["estate", "account", "party_id"],
                name="ledger_posting_party",
                condition=Q(party_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.account_id} {side}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PostedEntryError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PostedEntryError()


class PeriodClose(models.Model):
    """The monthly accounting period close (结账) of an estate: once `month` (its first day)
    is closed, no journal entry may be dated in it. `entry_post` refuses such an entry; on
    PostgreSQL a trigger refuses the INSERT too (migration 0004). Months close in order, and
    only after they have ended; a correction goes into the next open month."""

    estate = models.ForeignKey(
        "registry.Estate", verbose_name=_("estate"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month closed."))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("accounting period close")
        verbose_name_plural = _("accounting period closes")
        ordering = ["estate_id", "-month"]
        permissions = [("close_period", "Can close an accounting period")]
        constraints = [
            models.UniqueConstraint(fields=["estate", "month"], name="ledger_period_close_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.estate_id} {self.month:%Y-%m}"
