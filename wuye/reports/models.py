"""Summaries the reports read instead of the books (README: "Summaries").

Every figure of the dashboard and the standard tables is a sum over these cells; each cell is
derived from the receivables subledger (charges, waivers, credit notes, allocations, payments,
reversals) by `wuye.reports.summaries`, and only from there. Posting services mark what they
changed (`wuye.billing.events`) and `summaries.post` writes the difference as append-only
deltas in the same transaction (`CellDelta`, `CountDelta`, `MoneyDelta`); readers add the
pending deltas to the cells, and the scheduled job folds them in, so a reader never sees a
figure older than the last commit and never recomputes anything. Cells hold no foreign-key
constraints: they are a cache, dropped and rebuilt at will (`wuye reports-rebuild`)."""

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


class HouseholdCell(models.Model):
    """Households (units) of a building billed fees for a period, and how many still owe on
    them now."""

    estate = _fk("registry.Estate")
    building = _fk("registry.Building")
    period = models.CharField(max_length=7)
    units_billed = models.IntegerField(default=0)
    units_owing = models.IntegerField(default=0)

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
    """A building now: its households (units ever billed fees or opening arrears, not
    cancelled), those owing on them, and how much."""

    estate = _fk("registry.Estate")
    building = _fk("registry.Building")
    units_billed = models.IntegerField(default=0)
    units_owing = models.IntegerField(default=0)
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


class UnitState(models.Model):
    """What the cells hold of one unit's charges, as last posted (`summaries.post`): per
    charge its period, kind group, fee item, due date, whether it is owed, and its money per
    month. A posting locks this row, compares the charges it changed with what is here and
    writes the difference as deltas; the unit's household flags (billed, owing) follow from
    the whole row. One row per unit ever billed; `state` is JSON (money as strings)."""

    unit_id = models.BigIntegerField(primary_key=True)
    estate_id = models.BigIntegerField()
    building_id = models.BigIntegerField()
    state = models.TextField(default="{}")

    class Meta:
        indexes = [models.Index(fields=["building_id"], name="unitstate_building_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id}"


class CellDelta(models.Model):
    """A change to a `CollectionCell` (and its `EstateCell`) written by a posting, append
    only: postings never update a shared row, so payments in one building or estate never
    wait on each other. Readers add the pending deltas to the cells; the job
    (`summaries.refresh`) folds them in every minute."""

    estate_id = models.BigIntegerField()
    building_id = models.BigIntegerField()
    fee_item_id = models.BigIntegerField()
    kind = models.CharField(max_length=8, choices=KindGroup.choices)
    period = models.CharField(max_length=7)
    due_date = models.DateField()
    month = models.CharField(max_length=7)
    billed = MoneyField(default=ZERO)
    waived = MoneyField(default=ZERO)
    received = MoneyField(default=ZERO)
    from_balance = MoneyField(default=ZERO)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["estate_id"], name="celldelta_estate_idx")]

    def __str__(self) -> str:
        return f"{self.building_id} {self.period} {self.month}"


class CountDelta(models.Model):
    """A change to the households of a building: of a period (`HouseholdCell`) or, with an
    empty `period`, of the building now (`BuildingCell`)."""

    estate_id = models.BigIntegerField()
    building_id = models.BigIntegerField()
    period = models.CharField(max_length=7, blank=True)
    units_billed = models.IntegerField(default=0)
    units_owing = models.IntegerField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["estate_id"], name="countdelta_estate_idx")]

    def __str__(self) -> str:
        return f"{self.building_id} {self.period}"


class MoneyDelta(models.Model):
    """A change to a `MoneyCell`: payments taken or reversals approved."""

    estate_id = models.BigIntegerField()
    day = models.DateField()
    channel = models.CharField(max_length=12)
    cashier_id = models.PositiveIntegerField(default=0)
    payments = models.IntegerField(default=0)
    received = MoneyField(default=ZERO)
    prepaid = MoneyField(default=ZERO)
    refunded = MoneyField(default=ZERO)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["estate_id", "day"], name="moneydelta_day_idx")]

    def __str__(self) -> str:
        return f"{self.estate_id} {self.day} {self.channel}"


class Recovery(models.Model):
    """Money a collector recovered: new money applied to charges by a payment of a party
    whose open arrears case the collector held when the money came (`amount` > 0), or the
    part of it a later void or refund took back (< 0, on the day approved). Written by
    `summaries.post` with the payment or the reversal; what the dashboard's collectors read."""

    estate_id = models.BigIntegerField()
    day = models.DateField()
    staff_id = models.BigIntegerField()
    payment_id = models.BigIntegerField()
    amount = MoneyField(default=ZERO)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["estate_id", "day"], name="recovery_day_idx"),
            models.Index(fields=["payment_id"], name="recovery_payment_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.day} {self.amount}"
