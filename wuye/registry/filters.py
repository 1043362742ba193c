"""Query parameters of the registry API lists.

The FilterSets parse and check the parameters (a bad choice is a 400 naming the parameter) and
document them in the OpenAPI schema; the reading itself is the selectors' job, so a list through
the API is exactly the list the staff pages show, estate scoping included.
"""

import django_filters
from django.db.models import QuerySet

from . import selectors
from .models import Building, Party, ServiceContract, Unit


class _SelectorFilterSet(django_filters.FilterSet):
    """A FilterSet whose filtering is done by a selector, given the cleaned parameters."""

    def search(self, user, **params) -> QuerySet:
        raise NotImplementedError

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        params = {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "")}
        return self.search(self.request.user, **params)


class UnitFilterSet(_SelectorFilterSet):
    q = django_filters.CharFilter(
        label="unit number, owner name, or the last 4 digits of the owner's phone"
    )
    estate = django_filters.NumberFilter(label="estate id")
    building = django_filters.NumberFilter(label="building id")
    unit_type = django_filters.ChoiceFilter(choices=Unit.Type.choices)
    occupancy = django_filters.ChoiceFilter(choices=Unit.Occupancy.choices)

    class Meta:
        model = Unit
        fields: list[str] = []

    def search(self, user, **params) -> QuerySet[Unit]:
        return selectors.unit_search(
            user,
            q=params.get("q", ""),
            estate_id=params.get("estate"),
            building_id=params.get("building"),
            unit_type=params.get("unit_type", ""),
            occupancy=params.get("occupancy", ""),
        )


class PartyFilterSet(_SelectorFilterSet):
    q = django_filters.CharFilter(label="name, unit number, or phone (last 4 digits or full)")
    estate = django_filters.NumberFilter(label="estate id")

    class Meta:
        model = Party
        fields: list[str] = []

    def search(self, user, **params) -> QuerySet[Party]:
        return selectors.party_search(user, q=params.get("q", ""), estate_id=params.get("estate"))


class EstateScopedFilterSet(_SelectorFilterSet):
    """`?estate=<id>` on a model with an `estate` foreign key, within the user's estates."""

    estate = django_filters.NumberFilter(label="estate id")

    def search(self, user, **params) -> QuerySet:
        qs = selectors.scope(self.queryset, user)
        if params.get("estate"):
            qs = qs.filter(estate_id=params["estate"])
        return qs


class BuildingFilterSet(EstateScopedFilterSet):
    class Meta:
        model = Building
        fields: list[str] = []


class ContractFilterSet(EstateScopedFilterSet):
    class Meta:
        model = ServiceContract
        fields: list[str] = []
