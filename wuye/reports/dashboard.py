"""The dashboard's figures in one structure, for the page, the API and the PDF report alike:
this month's and this year's collection rate against last year, the monthly trend, aging,
unpaid households by reason, arrears by building, the channel mix and the collectors."""

from dataclasses import dataclass
from datetime import date

from . import collection_seam, selectors
from .definitions import DEFINITIONS, Rate, month_add, month_end, month_of


@dataclass
class Figures:
    scope: selectors.Scope
    as_of: date
    month: str
    month_rate: Rate
    month_rate_last_year: Rate
    cumulative_last_month: Rate
    year_rate: Rate
    year_rate_last_year: Rate
    household_rate: Rate
    clearance_rate: Rate
    owing_households: Rate
    split: selectors.Split
    trend: list[selectors.TrendPoint]
    aging: list[selectors.AgingBucket]
    late_fees_owed: object
    buildings: list[selectors.BuildingArrears]
    channels: list[dict]
    reasons: list[dict]
    collectors: list[dict]
    disputes: list[dict]

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "month": self.month,
            "estates": list(self.scope.estate_ids),
            "building": self.scope.building_id,
            "month_rate": self.month_rate.as_dict(),
            "month_rate_last_year": self.month_rate_last_year.as_dict(),
            "cumulative_last_month": self.cumulative_last_month.as_dict(),
            "year_rate": self.year_rate.as_dict(),
            "year_rate_last_year": self.year_rate_last_year.as_dict(),
            "household_rate": self.household_rate.as_dict(),
            "clearance_rate": self.clearance_rate.as_dict(),
            "owing_households": {
                "households": int(self.owing_households.part),
                "of": int(self.owing_households.whole),
                "amount": str(self.owing_households.billed),
            },
            "split": self.split.as_dict(),
            "trend": [
                {"month": p.month, "rate": p.rate.as_dict(), "last_year": p.last_year.as_dict()}
                for p in self.trend
            ],
            "aging": [
                {"bucket": b.code, "label": b.label, "amount": str(b.amount)} for b in self.aging
            ],
            "late_fees_owed": str(self.late_fees_owed),
            "arrears_by_building": [
                {
                    "building": b.building_id,
                    "name": b.name,
                    "estate": b.estate,
                    "owing": str(b.owing),
                    "households_owing": b.units_owing,
                    "households": b.units_billed,
                }
                for b in self.buildings
            ],
            "channels": [
                {k: str(v) if not isinstance(v, int | str) else v for k, v in r.items()}
                for r in self.channels
            ],
            "unpaid_by_reason": [{**r, "amount": str(r["amount"])} for r in self.reasons],
            "collectors": [
                {
                    **r,
                    "recovered": str(r["recovered"]),
                    "kept_rate": None if r["kept_rate"] is None else str(r["kept_rate"]),
                }
                for r in self.collectors
            ],
            "disputes": self.disputes,
            "definitions": {k: str(v) for k, v in DEFINITIONS.items()},
        }


def figures(scope: selectors.Scope, as_of: date) -> Figures:
    with selectors.pinned(scope):
        return _figures(scope, as_of)


def _figures(scope: selectors.Scope, as_of: date) -> Figures:
    month = month_of(as_of)
    last_year = as_of.replace(year=as_of.year - 1, day=min(as_of.day, 28))
    start = date(as_of.year, as_of.month, 1)
    owing = selectors.owing_households(scope)
    return Figures(
        scope=scope,
        as_of=as_of,
        month=month,
        month_rate=selectors.period_rate(scope, month, as_of),
        month_rate_last_year=selectors.period_rate(scope, month_add(month, -12), last_year),
        cumulative_last_month=selectors.cumulative_rate(scope, month_add(month, -1), as_of),
        year_rate=selectors.year_rate(scope, as_of.year, as_of),
        year_rate_last_year=selectors.year_rate(scope, as_of.year - 1, last_year),
        household_rate=selectors.household_rate(scope, month),
        clearance_rate=selectors.clearance_rate(scope, month),
        owing_households=owing,
        split=selectors.payment_split(scope, month),
        trend=selectors.monthly_trend(scope, as_of.year, as_of),
        aging=selectors.aging(scope, as_of),
        late_fees_owed=selectors.late_fees_owed(scope),
        buildings=selectors.arrears_by_building(scope),
        channels=selectors.channel_mix(scope, start, min(as_of, month_end(month))),
        reasons=collection_seam.unpaid_by_reason(scope.estate_ids, scope.building_id, as_of),
        collectors=collection_seam.collector_performance(scope.estate_ids, start, as_of),
        disputes=collection_seam.disputes(scope.estate_ids, start, as_of),
    )
