"""Summaries the reports read instead of the books (README: "Summaries").

Every figure of the dashboard and the standard tables is a sum over these cells; each cell is
derived from the receivables subledger (charges, waivers, credit notes, allocations, payments,
reversals) by `wuye.reports.summaries`, and only from there. Posting services mark what they
changed (`wuye.billing.events`) in the same transaction (`DirtyCell`, `DirtyDay`); the marked
cells are recomputed before the next read and by the scheduled job, so a reader never sees a
figure older than the last commit. Cells hold no foreign-key constraints: they are a cache,
dropped and rebuilt at will (`wuye reports-rebuild`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.core.money import ZERO, MoneyField


def _fk(model: str, **kwargs):
    return models.ForeignKey(
        model, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", **kwargs
    )


class KindGroup(models.TextChoices):
    """Charge kinds as the reports count them (README: "Definitions")."""

    FEE = "fee", _("Fees")
    LATE_FEE = "late_fee", _("Late fees")
    OPENING = "opening", _("Opening arrears")
    DEPOSIT = "deposit", _("Deposits")


KIND_GROUPS = {
    "regular": KindGroup.FEE,
    "adhoc": KindGroup.FEE,
    "debit_note": KindGroup.FEE,
    "late_fee": KindGroup.LATE_FEE,
    "opening": KindGroup.OPENING,
    "deposit": KindGroup.DEPOSIT,
}


class CollectionCell(models.Model):
    """Money of the charges of one (estate, building, fee item, kind, period, due date) that
    moved in one calendar `month`: `billed` (in the month of the period), `waived` (waivers and
    credit notes, the month approved), `received` (allocations, net of voids and refunds, the
    month of the money), of which `from_balance` came from the prepayment balance."""

    estate = _fk("registry.Estate")
    building = _fk("registry.Building")
    fee_item = _fk("fees.FeeItem")
    kind = models.CharField(max_length=8, choices=KindGroup.choices)
    period = models.CharField(max_length=7)
    due_date = models.DateField()
    month = models.CharField(max_length=7)
    billed = MoneyField(default=ZERO)
    waived = MoneyField(default=ZERO)
    received = MoneyField(default=ZERO)
    from_balance = MoneyField(default=ZERO)

    class Meta:
        verbose_name = _("collection summary")
        verbose_name_plural = _("collection summaries")
        ordering = ["estate_id", "building_id", "period", "month", "fee_item_id", "kind"]
        # The reports' permissions (a report is not a model): see roles.py.
        permissions = [
            ("view_reports", "Can view the dashboard and the report tables"),
            ("export_reports", "Can export report tables and PDFs (audited)"),
            ("view_debtor_contacts", "Can see debtors' phone numbers unmasked in reports"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "period", "fee_item", "kind", "due_date", "month"],
                name="collectioncell_key",
            )
        ]
        indexes = [
            models.Index(fields=["estate", "period"], name="collectioncell_period_idx"),
            models.Index(fields=["estate", "month"], name="collectioncell_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.building_id} {self.period} {self.month}"


class EstateCell(models.Model):
    """`CollectionCell` summed over an estate's buildings: what the company and estate
    figures read (a few thousand rows where the building cells are a few hundred thousand).
    Recomputed from the building cells of an (estate, period) whenever one of them is."""

    estate = _fk("registry.Estate")
    fee_item = _fk("fees.FeeItem")
    kind = models.CharField(max_length=8, choices=KindGroup.choices)
    period = models.CharField(max_length=7)
    due_date = models.DateField()
    month = models.CharField(max_length=7)
    billed = MoneyField(default=ZERO)
    waived = MoneyField(default=ZERO)
    received = MoneyField(default=ZERO)
    from_balance = MoneyField(default=ZERO)

    class Meta:
        verbose_name = _("estate collection summary")
        verbose_name_plural = _("estate collection summaries")
        ordering = ["estate_id", "period", "month", "fee_item_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["estate", "period", "fee_item", "kind", "due_date", "month"],
                name="estatecell_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.estate_id} {self.period} {self.month}"


class OwingUnit(models.Model):
    """A unit that owes something on the fees or opening arrears of a period now (one row
    per unit and period): counts households owing per building without reading charges."""

    estate_id = models.BigIntegerField()
    building_id = models.BigIntegerField()
    unit_id = models.BigIntegerField()
    period = models.CharField(max_length=7)

    class Meta:
        ordering = ["building_id", "unit_id", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["building_id", "period", "unit_id"], name="owingunit_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.period}"


class HouseholdCell(models.Model):
    """Households (units) of a building billed fees for a period, and how many still owe on
    them now."""

    estate = _fk("registry.Estate")
    building = _fk("registry.Building")
    period = models.CharField(max_length=7)
    units_billed = models.PositiveIntegerField(default=0)
    units_owing = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("household summary")
        verbose_name_plural = _("household summaries")
        ordering = ["estate_id", "building_id", "period"]
        constraints = [
            models.UniqueConstraint(fields=["building", "period"], name="householdcell_key")
        ]
        indexes = [models.Index(fields=["estate", "period"], name="householdcell_period_idx")]

    def __str__(self) -> str:
        return f"{self.building_id} {self.period}"


class BuildingCell(models.Model):
    """A building now: its active units (households), those owing on fees or opening
    arrears, and how much."""

    estate = _fk("registry.Estate")
    building = _fk("registry.Building")
    units_billed = models.PositiveIntegerField(default=0)
    units_owing = models.PositiveIntegerField(default=0)
    owing = MoneyField(default=ZERO)

    class Meta:
        verbose_name = _("building summary")
        verbose_name_plural = _("building summaries")
        ordering = ["estate_id", "building_id"]
        constraints = [models.UniqueConstraint(fields=["building"], name="buildingcell_key")]

    def __str__(self) -> str:
        return f"{self.building_id}"


class MoneyCell(models.Model):
    """Money received at an estate on a business day by one channel and cashier (`cashier_id`
    0: nobody, e.g. online): `received` (payments, not uses of the prepayment balance), of it
    `prepaid` (kept as prepayment), and `refunded` (voids and refunds approved that day)."""

    estate = _fk("registry.Estate")
    day = models.DateField()
    channel = models.CharField(max_length=12)
    cashier_id = models.PositiveIntegerField(default=0)
    payments = models.PositiveIntegerField(default=0)
    received = MoneyField(default=ZERO)
    prepaid = MoneyField(default=ZERO)
    refunded = MoneyField(default=ZERO)

    class Meta:
        verbose_name = _("money summary")
        verbose_name_plural = _("money summaries")
        ordering = ["estate_id", "day", "channel", "cashier_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["estate", "day", "channel", "cashier_id"], name="moneycell_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.estate_id} {self.day} {self.channel}"


class DirtyCell(models.Model):
    """A (building, period) whose cells must be recomputed; written by the posting's own
    transaction (an upsert: it locks the mark, so a refresh in progress waits for the posting
    or skips the mark and takes it next time)."""

    estate_id = models.BigIntegerField()
    building_id = models.BigIntegerField()
    period = models.CharField(max_length=7)
    marks = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["building_id", "period"], name="dirtycell_key")
        ]

    def __str__(self) -> str:
        return f"{self.building_id} {self.period}"


class DirtyDay(models.Model):
    """An (estate, business day) whose money cells must be recomputed."""

    estate_id = models.BigIntegerField()
    day = models.DateField()
    marks = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["estate_id", "day"], name="dirtyday_key")]

    def __str__(self) -> str:
        return f"{self.estate_id} {self.day}"
