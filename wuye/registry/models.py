"""The estate registry: estates, buildings, units, parties, who owns or rents what, contracts.

Decision: a Party belongs to one estate. Property offices keep their customer files per
estate (項目), access is scoped per estate, and an owner with flats in two estates is two
files. This keeps every scoped query a single indexed filter on `estate_id`.
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.crypto import EncryptedTextField
from wuye.core.names import person_name


class Estate(models.Model):
    """A managed estate (項目/小區): the unit of access, billing and accounting."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=255, blank=True)
    hotline = models.CharField(_("service hotline"), max_length=30, blank=True)
    company_name = models.CharField(_("management company"), max_length=100, blank=True)
    # The collection account (收款账户) owners transfer to, printed on payment notices, the
    # welcome notice and statements with the payment reference to write in the memo.
    bank_name = models.CharField(_("bank and branch"), max_length=100, blank=True)
    bank_account_name = models.CharField(_("account name"), max_length=100, blank=True)
    bank_account_number = models.CharField(_("account number"), max_length=40, blank=True)
    # A late fee below this total on a charge is not assessed (nobody chases 0.07 yuan).
    late_fee_minimum = models.DecimalField(
        _("minimum late fee"),
        max_digits=14,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(10000)],
        help_text=_("A late fee below this amount on a charge is not assessed. 0: no minimum."),
    )
    # A fee standard's price increase applies no earlier than this many days after its
    # publication (公示); a decrease may apply at once.
    fee_notice_days = models.PositiveSmallIntegerField(
        _("notice days before a price increase"),
        default=30,
        validators=[MaxValueValidator(365)],
        help_text=_("An increase applies no earlier than this many days after its publication."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("estate")
        verbose_name_plural = _("estates")
        ordering = ["code"]
        permissions = [
            ("access_all_estates", "Can access every estate"),
            ("change_collection_account", "Can set the estate's collection bank account"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_collection_account(self) -> bool:
        return bool(self.bank_account_number)

    def bank_account_grouped(self) -> str:
        """The account number in groups of four, as banks print it."""
        digits = self.bank_account_number
        return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))

    def collection_account_text(self) -> str:
        """The account in one line: bank, account name, number in groups of four."""
        if not self.bank_account_number:
            return ""
        parts = (self.bank_name, self.bank_account_name, self.bank_account_grouped())
        return " ".join(p for p in parts if p)


class Building(models.Model):
    """A building (樓棟) of an estate, e.g. code `1`, name `1栋`."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="buildings")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=50)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["estate_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "code"], name="building_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A billable unit (房號) such as `1-2-301`: building 1, entrance 2, room 301."""

    class Type(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        COMMERCIAL = "commercial", _("Commercial")
        PARKING = "parking", _("Parking")
        STORAGE = "storage", _("Storage")

    class Occupancy(models.TextChoices):
        VACANT = "vacant", _("Vacant")
        OCCUPIED = "occupied", _("Occupied")
        RENOVATING = "renovating", _("Renovating")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="units")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units")
    number = models.CharField(_("unit number"), max_length=30)
    entrance = models.CharField(_("entrance"), max_length=10, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    gross_area = models.DecimalField(
        _("gross area (m²)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    unit_type = models.CharField(
        _("type"), max_length=16, choices=Type.choices, default=Type.RESIDENTIAL
    )
    handover_date = models.DateField(_("handover date"), null=True, blank=True)
    fee_start_date = models.DateField(_("fee start date"), null=True, blank=True)
    occupancy = models.CharField(
        _("occupancy"), max_length=16, choices=Occupancy.choices, default=Occupancy.OCCUPIED
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        # Building, entrance, floor, then number: 1-1-101 before 1-1-1001, as staff walk it.
        ordering = ["estate_id", "building_id", "entrance", "floor", "number"]
        indexes = [
            models.Index(
                fields=["estate", "building", "entrance", "floor", "number"],
                name="unit_walk_order_idx",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["estate", "number"], name="unit_number_unique"),
            models.CheckConstraint(
                condition=Q(gross_area__isnull=True) | Q(gross_area__gt=0),
                name="unit_area_positive",
                violation_error_message=_("The gross area must be greater than zero."),
            ),
        ]

    def __str__(self) -> str:
        return self.number


def new_payment_ref() -> str:
    """A stable reference printed on notices for bank transfers: letters that are not confused
    with digits, 10 characters, e.g. `WY7K3M9Q2P`."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "WY" + "".join(secrets.choice(alphabet) for _ in range(8))


class Party(models.Model):
    """An owner, tenant or payer (業主/住戶/繳費人) known to one estate."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        APP = "app", _("App")
        EMAIL = "email", _("Email")
        LETTER = "letter", _("Letter")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="parties")
    name = models.CharField(_("name"), max_length=100, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    phone_alt = models.CharField(_("other phone"), max_length=20, blank=True)
    # The last 4 digits of both phones, space-separated, indexed for the window's phone search.
    phone_tails = models.CharField(max_length=9, blank=True, db_index=True, editable=False)
    email = models.EmailField(_("email"), blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    mailing_address = models.CharField(_("mailing address"), max_length=255, blank=True)
    wechat_openid = models.CharField(_("WeChat openid"), max_length=64, blank=True)
    # Ordered channels the party prefers, e.g. ["wechat", "sms", "letter"].
    preferred_channels = models.JSONField(_("preferred channels"), default=list, blank=True)
    # Consent per channel, e.g. {"sms": true, "wechat": false}; missing means not asked.
    consents = models.JSONField(_("channel consent"), default=dict, blank=True)
    payment_ref = models.CharField(
        _("payment reference"),
        max_length=12,
        unique=True,
        default=new_payment_ref,
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["estate_id", "name", "id"]
        permissions = [
            ("view_pii", "Can see full phone and ID numbers"),
            ("import_registry", "Can import buildings, units and owners"),
            ("export_registry", "Can export buildings, units and owners"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.phone_tails = " ".join(p[-4:] for p in (self.mobile, self.phone_alt) if p)
        super().save(*args, **kwargs)

    @property
    def preferred_channels_display(self) -> str:
        """The channels as staff read them (短信、微信), not their codes."""
        from django.utils.translation import pgettext

        labels = dict(self.Channel.choices)
        return pgettext("list separator", ", ").join(
            str(labels.get(c, c)) for c in self.preferred_channels or []
        )


class UnitParty(models.Model):
    """Ownership or tenancy of a unit over a span of dates, and who pays (designated payer).

    Charges belong to the party that owned the unit, or was its designated payer, in the billed
    period; a new owner never inherits earlier charges (DESIGN.md §4)."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        TENANT = "tenant", _("Tenant")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="relations")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="relations")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.OWNER)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)
    is_payer = models.BooleanField(_("designated payer"), default=False)

    class Meta:
        verbose_name = _("ownership or tenancy")
        verbose_name_plural = _("ownerships and tenancies")
        ordering = ["unit_id", "start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="unitparty_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["unit", "role", "start_date"], name="unitparty_unit_idx")]

    def __str__(self) -> str:
        return f"{self.unit} {self.get_role_display()} {self.party}"


class ServiceContract(models.Model):
    """The property service contract (物業服務合同) of an estate, with its late-fee clause."""

    class PricingMode(models.TextChoices):
        LUMP_SUM = "lump_sum", _("Lump-sum (包干制)")
        COMMISSION = "commission", _("Commission (酬金制)")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(_("contract number"), max_length=50)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)
    pricing_mode = models.CharField(
        _("pricing mode"),
        max_length=16,
        choices=PricingMode.choices,
        default=PricingMode.LUMP_SUM,
    )
    commission_rate = models.DecimalField(
        _("commission rate"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    has_late_fee_clause = models.BooleanField(_("late-fee clause"), default=False)
    # e.g. 0.000300 = 萬分之三 per day of the unpaid principal
    # The same bounds as the API (`serializers.ContractInput`): the staff page validates with
    # them too (it once saved 5 % a day capped at 5x the principal).
    late_fee_daily_rate = models.DecimalField(
        _("late fee per day"),
        max_digits=8,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.000001")), MaxValueValidator(Decimal("0.01"))],
    )
    late_fee_grace_days = models.PositiveSmallIntegerField(
        _("grace days"), default=0, validators=[MaxValueValidator(365)]
    )
    # Cap as a share of the unpaid principal; 1.0000 means never above the principal.
    late_fee_cap_ratio = models.DecimalField(
        _("late fee cap (share of principal)"),
        max_digits=5,
        decimal_places=4,
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    # Civil Code art. 561 orders costs, interest, principal; 违约金 is not interest, so by
    # default an undesignated payment pays a period's principal before its late fee. A
    # contract may agree otherwise (art. 561 "另有约定").
    late_fees_first = models.BooleanField(
        _("payments settle late fees before their principal"),
        default=False,
        help_text=_(
            "Only when the contract says so; by law (Civil Code art. 561) the principal of a "
            "period is paid before its late fee."
        ),
    )
    document = models.FileField(_("document"), upload_to="contracts/", blank=True)

    class Meta:
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        ordering = ["estate_id", "-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "number"], name="contract_number_unique"),
            models.CheckConstraint(
                condition=Q(has_late_fee_clause=False) | Q(late_fee_daily_rate__gt=0),
                name="contract_late_fee_rate_set",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OwnerNote(models.Model):
    """What customer service, engineering or security learned about an owner, shared with the
    collection team (SEED: 團隊協作, 信息共享). Visible only to the roles listed."""

    class Category(models.TextChoices):
        HARDSHIP = "hardship", _("Hardship")
        HOUSE_QUALITY = "house_quality", _("House quality issue")
        AWAY = "away", _("Away long-term")
        SENSITIVE = "sensitive", _("Sensitive")
        OTHER = "other", _("Other")

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="notes")
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    text = models.TextField(_("text"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(_("author's department"), max_length=32, blank=True)
    # Group names that may read the note; empty means every role with access to the estate.
    visible_to = models.JSONField(_("visible to"), default=list, blank=True)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        verbose_name = _("owner note")
        verbose_name_plural = _("owner notes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.text[:30]}"


class StaffProfile(models.Model):
    """Which estates a staff member works for. Users with `access_all_estates` see every one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    estates = models.ManyToManyField(Estate, blank=True, related_name="staff")
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Set when a supervisor gives a temporary password: every page asks for a new one first.
    must_change_password = models.BooleanField(_("must change the password"), default=False)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        ordering = ["user_id"]

    def __str__(self) -> str:
        return person_name(self.user)


class ImportJob(models.Model):
    """One uploaded registry file on its way in: checked by the background worker (every
    error kept by row and column), previewed, and written on confirmation, all or nothing.

    The states and who moves them (`TRANSITIONS`): the upload queues a check; the worker
    checks (`checking`) and leaves a preview (`checked`) or the errors (`rejected`); staff
    confirm (`confirmed`); the worker applies (`applying`) and the write commits together
    with `done`, so a job is never `done` without its rows nor its rows without `done`.
    `failed` means nothing was written and the job can be run again; `cancelled` that staff
    discarded it, or it waited unconfirmed too long. Progress (`rows_done` of `rows_total`)
    is written every thousand rows by small UPDATEs of this row, which is why the file's
    bytes live apart, in `ImportFile`."""

    class Kind(models.TextChoices):
        BUILDINGS = "buildings", _("Buildings")
        UNITS = "units", _("Units")
        OWNERS = "owners", _("Owners")

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting to be checked")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked: ready to import")
        REJECTED = "rejected", _("Rejected: the file has errors")
        CONFIRMED = "confirmed", _("Confirmed: waiting to be written")
        APPLYING = "applying", _("Writing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed: nothing was written")
        CANCELLED = "cancelled", _("Discarded")

    class Step(models.TextChoices):
        NONE = "", _("Waiting")
        READING = "reading", _("Checking rows")
        WRITING = "writing", _("Writing")

    # a second upload of the same file finds the job while it is in one of these states
    PENDING = ("queued", "checking", "checked", "confirmed", "applying")
    RUNNING = ("checking", "applying")
    TRANSITIONS = {
        "queued": {"checking", "cancelled", "failed"},
        "checking": {"checked", "rejected", "failed"},
        "checked": {"confirmed", "cancelled"},
        "confirmed": {"applying", "failed"},
        "applying": {"done", "rejected", "failed"},
        "failed": {"queued"},
        "rejected": set(),
        "done": set(),
        "cancelled": set(),
    }

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="import_jobs")
    kind = models.CharField(_("what the file holds"), max_length=10, choices=Kind.choices)
    filename = models.CharField(_("file"), max_length=255)
    size = models.PositiveBigIntegerField(_("bytes"), default=0)
    sha256 = models.CharField(max_length=64)
    update = models.BooleanField(_("updates allowed"), default=False)
    create_buildings = models.BooleanField(_("creates buildings"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    step = models.CharField(max_length=10, choices=Step.choices, default=Step.NONE, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    # the first ERRORS_KEPT errors as [row, column, reason]; errors_total counts them all
    errors = models.JSONField(default=list, blank=True)
    errors_total = models.PositiveIntegerField(default=0)
    # columns, ignored columns, the first rows and the counts to write (or written)
    report = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # the last thing that happened: the worker's progress, or staff asking for the worker (a
    # running job silent for long has lost its worker; a waiting one has none running)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["estate", "kind", "sha256"],
                condition=Q(state__in=["queued", "checking", "checked", "confirmed", "applying"]),
                name="importjob_one_pending_per_file",
            ),
        ]
        indexes = [models.Index(fields=["estate", "-created_at"], name="importjob_estate_idx")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def progress_percent(self) -> int:
        if self.state in (self.State.CHECKED, self.State.REJECTED, self.State.DONE):
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def is_running(self) -> bool:
        return self.state in self.PENDING and self.state != self.State.CHECKED


class ImportFile(models.Model):
    """The bytes of an uploaded import file, kept in the database so that every web process
    and every worker, on any machine, reads the same file, and it survives restarts without
    shared disk; apart from `ImportJob` because SQLite rewrites a whole row on UPDATE and the
    job row is updated every thousand rows. A CSV is stored gzipped. Deleted when the job
    ends, or (a failed job, which can be run again) seven days after."""

    class Compression(models.TextChoices):
        NONE = "", _("none (an .xlsx is a zip archive already)")
        GZIP = "gzip", _("gzip")

    job = models.OneToOneField(
        ImportJob, on_delete=models.CASCADE, primary_key=True, related_name="file"
    )
    content = models.BinaryField()
    compression = models.CharField(
        _("compression"), max_length=10, choices=Compression.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("import file")
        verbose_name_plural = _("import files")
        ordering = ["job_id"]

    def __str__(self) -> str:
        return f"file of import job {self.job_id}"
