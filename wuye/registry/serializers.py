"""Input and output shapes of the registry API (HackSoft style: explicit, one pair per use).

Input serializers only parse and check the shape of what a client sends; the services enforce the
business rules (phone formats, estate access, ownership dates) and the API turns their
`DomainError` into a 400 naming the field. Related objects in input are looked up within the
user's estates only, so another estate's building or party reads as "does not exist".
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wuye.core.names import person_name
from wuye.core.normalize import clean_text
from wuye.core.roles import ROLES

from . import selectors
from .models import (
    Building,
    Estate,
    OwnerNote,
    Party,
    ServiceContract,
    Unit,
    UnitParty,
)


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key of an object in one of the requesting user's estates."""

    def __init__(self, *, scope_field: str = "estate_id", **kwargs):
        self.scope_field = scope_field
        super().__init__(**kwargs)

    def get_queryset(self):
        return selectors.scope(
            super().get_queryset(), self.context["request"].user, self.scope_field
        )


def _estate_field(**kwargs):
    return ScopedRelatedField(queryset=Estate.objects.all(), scope_field="id", **kwargs)


# --- estates ---------------------------------------------------------------------------------
class EstateOutput(serializers.ModelSerializer):
    class Meta:
        model = Estate
        fields = [
            "id",
            "code",
            "name",
            "address",
            "hotline",
            "company_name",
            "bank_name",
            "bank_account_name",
            "bank_account_number",
            "late_fee_minimum",
            "fee_notice_days",
            "is_active",
        ]
        read_only_fields = fields


class CollectionAccountInput(serializers.Serializer):
    bank_name = serializers.CharField(max_length=100, allow_blank=True)
    bank_account_name = serializers.CharField(max_length=100, allow_blank=True)
    bank_account_number = serializers.CharField(max_length=60, allow_blank=True)


class EstateInput(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=100)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    hotline = serializers.CharField(max_length=30, required=False, allow_blank=True)
    company_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    late_fee_minimum = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("10000"),
        required=False,
    )
    fee_notice_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    is_active = serializers.BooleanField(required=False)

    def validate_code(self, value: str) -> str:
        code = clean_text(value)
        others = Estate.objects.filter(code=code)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():  # a friendly message; the UNIQUE constraint still decides
            raise serializers.ValidationError(_("an estate with this code already exists"))
        return code


# --- buildings -------------------------------------------------------------------------------
class BuildingOutput(serializers.ModelSerializer):
    class Meta:
        model = Building
        fields = ["id", "estate", "code", "name", "floors"]
        read_only_fields = fields


class BuildingInput(serializers.Serializer):
    estate = _estate_field()
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    floors = serializers.IntegerField(min_value=1, max_value=200, required=False, allow_null=True)

    def validate(self, attrs):
        code = clean_text(attrs["code"])
        if Building.objects.filter(estate=attrs["estate"], code=code).exists():
            raise serializers.ValidationError(
                {"code": _("a building with this code already exists in this estate")}
            )
        return attrs


# --- units -----------------------------------------------------------------------------------
class UnitOutput(serializers.ModelSerializer):
    building_code = serializers.CharField(source="building.code", read_only=True)

    class Meta:
        model = Unit
        fields = [
            "id",
            "estate",
            "building",
            "building_code",
            "number",
            "entrance",
            "floor",
            "gross_area",
            "unit_type",
            "handover_date",
            "fee_start_date",
            "occupancy",
            "is_active",
        ]
        read_only_fields = fields


class UnitInput(serializers.Serializer):
    """Create (every required field) or partial update (`partial=True`) of a unit."""

    building = ScopedRelatedField(queryset=Building.objects.select_related("estate"))
    number = serializers.CharField(max_length=30)
    entrance = serializers.CharField(max_length=10, required=False, allow_blank=True)
    floor = serializers.IntegerField(min_value=-10, max_value=200, required=False, allow_null=True)
    gross_area = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
    )
    unit_type = serializers.ChoiceField(choices=Unit.Type.choices, required=False)
    handover_date = serializers.DateField(required=False, allow_null=True)
    fee_start_date = serializers.DateField(required=False, allow_null=True)
    occupancy = serializers.ChoiceField(choices=Unit.Occupancy.choices, required=False)
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        unit: Unit | None = self.instance
        building = attrs.get("building") or (unit.building if unit else None)
        if "number" in attrs:
            attrs["number"] = clean_text(attrs["number"])
            clash = Unit.objects.filter(estate_id=building.estate_id, number=attrs["number"])
            if unit is not None:
                clash = clash.exclude(pk=unit.pk)
            if clash.exists():  # a friendly message; the UNIQUE constraint still decides
                raise serializers.ValidationError(
                    {"number": _("a unit with this number already exists in this estate")}
                )
        if unit is not None and building.estate_id != unit.estate_id:
            raise serializers.ValidationError(
                {"building": _("the building belongs to another estate")}
            )
        handover = attrs.get("handover_date", unit.handover_date if unit else None)
        fee_start = attrs.get("fee_start_date", unit.fee_start_date if unit else None)
        if handover and fee_start and fee_start < handover:
            raise serializers.ValidationError(
                {"fee_start_date": _("fees cannot start before the handover date")}
            )
        return attrs


# --- parties ---------------------------------------------------------------------------------
@extend_schema_field(
    {"type": "string", "enum": list(Party.Kind.values), "description": "person or company"},
    component_name="PartyKindEnum",
)
class PartyKindField(serializers.ChoiceField):
    """`kind` of a party, named apart in the schema from other apps' `kind` enums."""

    def __init__(self, **kwargs):
        super().__init__(choices=Party.Kind.choices, **kwargs)


class PartyOutput(serializers.ModelSerializer):
    """A party with phones and ID number as the reader may see them (masked by default).

    The view passes `contacts` in the context: {party id: party_contact_view(...) result}."""

    kind = PartyKindField(read_only=True)
    mobile = serializers.SerializerMethodField()
    phone_alt = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    # Most parties have none: "" is not an address, so not documented as format "email".
    email = serializers.CharField(read_only=True, help_text="An email address, or empty.")

    class Meta:
        model = Party
        fields = [
            "id",
            "estate",
            "name",
            "kind",
            "mobile",
            "phone_alt",
            "id_number",
            "email",
            "mailing_address",
            "preferred_channels",
            "consents",
            "payment_ref",
            "created_at",
        ]
        read_only_fields = fields

    def _contact(self, party: Party) -> dict[str, str]:
        return self.context["contacts"][party.pk]

    def get_mobile(self, party: Party) -> str:
        return self._contact(party)["mobile"]

    def get_phone_alt(self, party: Party) -> str:
        return self._contact(party)["phone_alt"]

    def get_id_number(self, party: Party) -> str:
        return self._contact(party)["id_number"]


class PartyInput(serializers.Serializer):
    """Create or partial update of a party. Phones are normalised and checked by the service."""

    estate = _estate_field()
    name = serializers.CharField(max_length=100)
    kind = PartyKindField(required=False)
    mobile = serializers.CharField(max_length=30, required=False, allow_blank=True)
    phone_alt = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=30, required=False, allow_blank=True)
    mailing_address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    wechat_openid = serializers.CharField(max_length=64, required=False, allow_blank=True)
    preferred_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Party.Channel.choices), required=False
    )
    consents = serializers.DictField(child=serializers.BooleanField(), required=False)

    def validate_consents(self, value: dict) -> dict:
        unknown = sorted(set(value) - set(Party.Channel.values))
        if unknown:
            raise serializers.ValidationError(
                _("unknown channel: %(names)s") % {"names": ", ".join(unknown)}
            )
        return value


class PartyUpdateInput(PartyInput):
    estate = None  # a party stays in its estate


# --- ownership and tenancy ------------------------------------------------------------------
class PartyBrief(serializers.ModelSerializer):
    class Meta:
        model = Party
        fields = ["id", "name"]
        read_only_fields = fields


class UnitPartyOutput(serializers.ModelSerializer):
    party = PartyBrief(read_only=True)

    class Meta:
        model = UnitParty
        fields = ["id", "unit", "party", "role", "start_date", "end_date", "is_payer"]
        read_only_fields = fields


class UnitPartyInput(serializers.Serializer):
    party = ScopedRelatedField(queryset=Party.objects.all())
    role = serializers.ChoiceField(choices=UnitParty.Role.choices, default=UnitParty.Role.OWNER)
    start_date = serializers.DateField()
    is_payer = serializers.BooleanField(default=False)
    end_previous = serializers.BooleanField(
        default=True, help_text="A new owner ends the previous open ownership the day before."
    )


# --- service contracts ----------------------------------------------------------------------
class ContractOutput(serializers.ModelSerializer):
    class Meta:
        model = ServiceContract
        fields = [
            "id",
            "estate",
            "number",
            "signed_on",
            "start_date",
            "end_date",
            "pricing_mode",
            "commission_rate",
            "has_late_fee_clause",
            "late_fee_daily_rate",
            "late_fee_grace_days",
            "late_fee_cap_ratio",
        ]
        read_only_fields = fields


class ContractInput(serializers.Serializer):
    estate = _estate_field()
    number = serializers.CharField(max_length=50)
    signed_on = serializers.DateField(required=False, allow_null=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    pricing_mode = serializers.ChoiceField(
        choices=ServiceContract.PricingMode.choices, required=False
    )
    commission_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        required=False,
        allow_null=True,
    )
    has_late_fee_clause = serializers.BooleanField(required=False)
    late_fee_daily_rate = serializers.DecimalField(
        max_digits=8,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        max_value=Decimal("0.01"),
        required=False,
        allow_null=True,
    )
    late_fee_grace_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    late_fee_cap_ratio = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        required=False,
    )
    late_fees_first = serializers.BooleanField(required=False)

    def _current(self, attrs, name):
        if name in attrs:
            return attrs[name]
        return getattr(self.instance, name, None) if self.instance is not None else None

    def validate(self, attrs):
        if "number" in attrs:
            attrs["number"] = clean_text(attrs["number"])
            estate = attrs.get("estate") or self.instance.estate
            clash = ServiceContract.objects.filter(estate=estate, number=attrs["number"])
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    {"number": _("a contract with this number already exists in this estate")}
                )
        start, end = self._current(attrs, "start_date"), self._current(attrs, "end_date")
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": _("ends before it starts")})
        if self._current(attrs, "has_late_fee_clause") and not self._current(
            attrs, "late_fee_daily_rate"
        ):
            raise serializers.ValidationError(
                {"late_fee_daily_rate": _("a late-fee clause needs its daily rate")}
            )
        return attrs


class ContractUpdateInput(ContractInput):
    estate = None  # a contract stays with its estate


# --- owner notes ----------------------------------------------------------------------------
class OwnerNoteOutput(serializers.ModelSerializer):
    author = serializers.SerializerMethodField(help_text="the writer's name")

    class Meta:
        model = OwnerNote
        fields = [
            "id",
            "party",
            "unit",
            "category",
            "text",
            "author",
            "author_role",
            "visible_to",
            "created_at",
        ]
        read_only_fields = fields

    def get_author(self, note: OwnerNote) -> str:
        return person_name(note.author)


class OwnerNoteInput(serializers.Serializer):
    category = serializers.ChoiceField(choices=OwnerNote.Category.choices)
    text = serializers.CharField(max_length=2000)
    unit = ScopedRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True)
    visible_to = serializers.ListField(
        child=serializers.ChoiceField(choices=ROLES),
        required=False,
        help_text="Roles that may read the note; empty means every role of the estate.",
    )
