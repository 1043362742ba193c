"""Fee items (收費項目), fee standards (收費標準), vacancy discounts (空置房優惠) and meters.

A fee item says *what* is charged and how (basis, cycle, timing, rounding, GL treatment); a fee
standard says *how much*, from which date, after approval and public posting (公示). Billing
reads only published standards (`selectors.standard_in_force`).

Dates of a bill (used by billing, documented here because the item carries the figures):
- an **advance** (預付費) item's bill for a period is raised `advance_days` before the period
  starts; an **arrears** (后付費) item's bill is raised on the day after the period ends;
- the **due date** is the bill date + `due_days` (calendar days; 0 = due on the bill date).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.ledger import chart
from wuye.registry.models import Estate, ServiceContract, Unit


class FeeItem(models.Model):
    """A kind of fee an estate charges (收費項目), e.g. PROPERTY 物業服務費 per m² per month."""

    class Kind(models.TextChoices):
        PROPERTY = "property", _("Property service fee")
        PARKING = "parking", _("Parking fee")
        WATER = "water", _("Water")
        ELECTRICITY = "electricity", _("Electricity")
        GAS = "gas", _("Gas")
        GARBAGE = "garbage", _("Garbage disposal")
        SHARED_UTILITY = "shared_utility", _("Shared utilities")
        DEPOSIT = "deposit", _("Deposit")
        ONE_OFF = "one_off", _("One-off fee")
        REPAIR = "repair", _("Repair")
        CARD = "card", _("Access card")
        PASS_THROUGH = "pass_through", _("Collected on behalf")

    class Basis(models.TextChoices):
        PER_AREA_MONTH = "per_area_month", _("per m² per month")
        PER_UNIT_MONTH = "per_unit_month", _("per unit per month")
        METERED = "metered", _("metered")
        ONE_OFF = "one_off", _("one-off")

    class Cycle(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        HALF_YEARLY = "half_yearly", _("Half-yearly")
        YEARLY = "yearly", _("Yearly")

    CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}

    class Timing(models.TextChoices):
        ADVANCE = "advance", _("In advance (預付費)")
        ARREARS = "arrears", _("In arrears (后付費)")

    class RoundingUnit(models.TextChoices):
        FEN = "fen", _("fen (0.01)")
        JIAO = "jiao", _("jiao (0.1)")
        YUAN = "yuan", _("yuan (1)")

    class RoundingMode(models.TextChoices):
        HALF_UP = "half_up", _("half up")
        UP = "up", _("up")
        DOWN = "down", _("down")

    class Treatment(models.TextChoices):
        REVENUE = "revenue", _("Revenue")
        DEPOSIT = "deposit", _("Deposit held")
        PASS_THROUGH = "pass_through", _("Collected on behalf")

    class MeterUnit(models.TextChoices):
        TON = "ton", _("ton")
        KWH = "kWh", _("kWh")
        CUBIC_METRE = "m³", _("m³")

    RECURRING_BASES = (Basis.PER_AREA_MONTH, Basis.PER_UNIT_MONTH)

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="fee_items")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    basis = models.CharField(_("basis"), max_length=20, choices=Basis.choices)
    meter_unit = models.CharField(
        _("meter unit"), max_length=8, choices=MeterUnit.choices, blank=True
    )
    cycle = models.CharField(_("cycle"), max_length=12, choices=Cycle.choices, default="monthly")
    timing = models.CharField(_("timing"), max_length=10, choices=Timing.choices, default="advance")
    advance_days = models.PositiveSmallIntegerField(
        _("days billed before the period"),
        default=0,
        help_text=_("An advance bill is raised this many days before the period starts."),
    )
    due_days = models.PositiveSmallIntegerField(
        _("days to pay"), default=30, help_text=_("Due date = bill date + this many days.")
    )
    rounding_unit = models.CharField(
        _("round to"), max_length=4, choices=RoundingUnit.choices, default="fen"
    )
    rounding_mode = models.CharField(
        _("rounding"), max_length=8, choices=RoundingMode.choices, default="half_up"
    )
    online_payable = models.BooleanField(_("payable online"), default=True)
    prepayment_offset = models.BooleanField(_("may be paid from prepayment"), default=True)
    treatment = models.CharField(
        _("accounting treatment"), max_length=16, choices=Treatment.choices, default="revenue"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fee item")
        verbose_name_plural = _("fee items")
        ordering = ["estate_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "code"], name="feeitem_code_unique"),
            models.CheckConstraint(
                condition=~Q(basis="metered") | ~Q(meter_unit=""),
                name="feeitem_metered_has_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def months(self) -> int:
        """Months in one billing cycle (1, 3, 6 or 12)."""
        return self.CYCLE_MONTHS[self.cycle]

    @property
    def is_recurring(self) -> bool:
        return self.basis in self.RECURRING_BASES

    def gl_account(self) -> str:
        """The general-ledger account the item's charges are credited to."""
        if self.treatment == self.Treatment.DEPOSIT:
            return chart.DEPOSITS
        if self.treatment == self.Treatment.PASS_THROUGH:
            return chart.PASS_THROUGH
        return chart.revenue_account(self.code)

    def unit_label(self) -> str:
        """What the rate is per, for notices: 元/m²/月, 元/户/月, 元/kWh, 元."""
        if self.basis == self.Basis.PER_AREA_MONTH:
            return "元/m²/月"
        if self.basis == self.Basis.PER_UNIT_MONTH:
            return "元/户/月"
        if self.basis == self.Basis.METERED:
            # As a Chinese notice prints it: 元/吨 for water, 元/度 for electricity.
            printed = {"ton": "吨", "kWh": "度", "m³": "m³"}
            return f"元/{printed.get(self.meter_unit, self.meter_unit) or '单位'}"
        return "元"


class FeeStandard(models.Model):
    """A versioned rate of a fee item (收費標準), filed (備案) and publicly posted (公示).

    Lifecycle: draft -> approved (supervisor) -> published (notice PDF generated) -> withdrawn.
    Only a published standard is used for billing. Publishing a new version ends the previous
    published version of the same item and unit type the day before the new one takes effect."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="fee_standards")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="standards")
    # Blank = every unit type; a type-specific standard wins over a blank one.
    unit_type = models.CharField(
        _("unit type"), max_length=16, choices=Unit.Type.choices, blank=True
    )
    version = models.PositiveIntegerField(_("version"))
    rate = models.DecimalField(_("rate"), max_digits=12, decimal_places=4)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    filing_ref = models.CharField(_("filing reference"), max_length=50, blank=True)
    pricing_mode = models.CharField(
        _("pricing mode"), max_length=16, choices=ServiceContract.PricingMode.choices, blank=True
    )
    service_content = models.TextField(_("service content"), blank=True)
    complaint_phone = models.CharField(_("complaint phone"), max_length=30, blank=True)
    # Share of the fee payable while an approved vacancy discount runs, e.g. 0.7000.
    vacancy_rate = models.DecimalField(
        _("share payable when vacant"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    notice_pdf = models.FileField(_("public notice"), upload_to="fees/notices/", blank=True)

    class Meta:
        verbose_name = _("fee standard")
        verbose_name_plural = _("fee standards")
        ordering = ["estate_id", "fee_item_id", "unit_type", "-version"]
        permissions = [
            ("approve_feestandard", "Can approve fee standards"),
            ("publish_feestandard", "Can publish fee standards"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["estate", "fee_item", "unit_type", "version"],
                name="feestandard_version_unique",
            ),
            models.CheckConstraint(condition=Q(rate__gte=0), name="feestandard_rate_not_negative"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="feestandard_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(vacancy_rate__isnull=True)
                | (Q(vacancy_rate__gte=0) & Q(vacancy_rate__lte=1)),
                name="feestandard_vacancy_rate_share",
            ),
        ]
        indexes = [
            models.Index(
                fields=["estate", "fee_item", "status", "effective_from"],
                name="feestandard_lookup_idx",
            )
        ]

    def __str__(self) -> str:
        kind = f" ({self.get_unit_type_display()})" if self.unit_type else ""
        return f"{self.fee_item}{kind} v{self.version}"

    def covers(self, on) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


class VacancyDiscount(models.Model):
    """A vacant-unit discount (空置房優惠): applied for, inspected on site, then approved.

    While approved, recurring fees for the span are charged at the standard's `vacancy_rate`."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        INSPECTED = "inspected", _("Inspected")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="vacancy_discounts")
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.APPLIED
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(_("applied"), auto_now_add=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    inspected_at = models.DateTimeField(_("inspected"), null=True, blank=True)
    # The supervisor who decided (approved or rejected).
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("vacancy discount")
        verbose_name_plural = _("vacancy discounts")
        ordering = ["estate_id", "-start_date", "-id"]
        permissions = [
            ("inspect_vacancydiscount", "Can record a vacancy inspection"),
            ("approve_vacancydiscount", "Can approve vacancy discounts"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="vacancy_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["unit", "status"], name="vacancy_unit_idx")]

    def __str__(self) -> str:
        return f"{self.unit} {self.start_date}–{self.end_date or ''}"


class Meter(models.Model):
    """A water/electricity/gas meter (表): a unit's own, or a shared master meter (公攤總表)
    whose consumption is apportioned to units (`unit` is null). A replaced meter is retired
    (`retired_on`, after its final reading) and the new one `replaces` it, from its initial
    reading on the same day."""

    class Kind(models.TextChoices):
        UNIT = "unit", _("Unit meter")
        MASTER = "master", _("Shared master meter")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="meters"
    )
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="meters")
    serial = models.CharField(_("serial"), max_length=40)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.UNIT)
    # Units a master meter is shared by; empty = every active unit of the estate.
    shared_units = models.ManyToManyField(Unit, blank=True, related_name="shared_meters")
    is_active = models.BooleanField(_("active"), default=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    retired_on = models.DateField(_("retired on"), null=True, blank=True)
    replaces = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        verbose_name=_("replaces"),
    )

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        ordering = ["estate_id", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "serial"], name="meter_serial_unique"),
            models.CheckConstraint(
                condition=(Q(kind="unit") & Q(unit__isnull=False))
                | (Q(kind="master") & Q(unit__isnull=True)),
                name="meter_kind_matches_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.serial


class MeterReading(models.Model):
    """One reading of a meter. `consumption` is this value minus the previous accepted one
    (null for a meter's first reading, which is the baseline). A suspicious reading is
    `flagged` with the reason and is not billable until approved; billing sets `billed` when it
    charges the consumption."""

    class Status(models.TextChoices):
        OK = "ok", _("OK")
        FLAGGED = "flagged", _("Flagged")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    BILLABLE = (Status.OK, Status.APPROVED)

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="readings")
    read_on = models.DateField(_("read on"))
    value = models.DecimalField(_("reading"), max_digits=14, decimal_places=3)
    consumption = models.DecimalField(
        _("consumption"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="ok")
    flag_reason = models.CharField(_("flag reason"), max_length=255, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    billed = models.BooleanField(_("billed"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")
        ordering = ["meter_id", "-read_on", "-id"]
        permissions = [("approve_meterreading", "Can approve or reject flagged readings")]
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "read_on"],
                condition=~Q(status="rejected"),
                name="meterreading_one_per_day",
            ),
        ]
        indexes = [
            models.Index(fields=["estate", "status", "billed"], name="meterreading_billing_idx")
        ]

    def __str__(self) -> str:
        return f"{self.meter} {self.read_on} {self.value}"

    @property
    def is_billable(self) -> bool:
        return self.status in self.BILLABLE and self.consumption is not None and not self.billed


class SharedApportionment(models.Model):
    """The split of one master-meter reading's consumption over units (公攤分攤).

    Methods: by gross area, by household (equal shares), or a documented formula (a weight
    expression per unit, see `calculations.formula_weight`). Lines are billable once approved."""

    class Method(models.TextChoices):
        BY_AREA = "by_area", _("By gross area")
        BY_HOUSEHOLD = "by_household", _("By household")
        FORMULA = "formula", _("By formula")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    reading = models.ForeignKey(
        MeterReading, on_delete=models.PROTECT, related_name="apportionments"
    )
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    formula = models.TextField(_("formula"), blank=True)
    total = models.DecimalField(_("consumption shared"), max_digits=14, decimal_places=3)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="draft")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)

    class Meta:
        verbose_name = _("shared apportionment")
        verbose_name_plural = _("shared apportionments")
        ordering = ["estate_id", "-created_at", "-id"]
        permissions = [("approve_sharedapportionment", "Can approve shared apportionments")]
        constraints = [
            models.UniqueConstraint(
                fields=["reading"],
                condition=~Q(status="rejected"),
                name="apportionment_one_per_reading",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reading.meter} {self.reading.read_on} {self.get_method_display()}"


class ApportionmentLine(models.Model):
    """One unit's share of an apportioned master-meter consumption, billable like a reading."""

    apportionment = models.ForeignKey(
        SharedApportionment, on_delete=models.PROTECT, related_name="lines"
    )
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    weight = models.DecimalField(_("weight"), max_digits=14, decimal_places=4)
    consumption = models.DecimalField(_("consumption"), max_digits=14, decimal_places=3)
    billed = models.BooleanField(_("billed"), default=False)

    class Meta:
        verbose_name = _("apportionment line")
        verbose_name_plural = _("apportionment lines")
        ordering = ["apportionment_id", "unit_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["apportionment", "unit"], name="apportionmentline_unit_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.consumption}"
