"""The demo's year (issue 16): what the dashboard shows after `wuye seed-demo`. Every figure
is read as the dashboard reads it (`wuye.reports`), for the company and today."""

from decimal import Decimal

from django.utils import timezone

from wuye.demo.cycle import periods_billed
from wuye.registry.models import Estate


def company():
    from wuye.reports import selectors

    return selectors.Scope(estate_ids=tuple(Estate.objects.values_list("pk", flat=True)))


def past_months() -> list[str]:
    """The eleven billed months before the current one, oldest first."""
    return [str(p) for p in periods_billed()][:-1]


def test_every_month_of_the_year_was_billed_and_collected_in_part(seeded, db):
    from wuye.reports import selectors

    today = timezone.localdate()
    scope = company()
    for month in past_months():
        in_period = selectors.period_rate(scope, month, today)
        cumulative = selectors.cumulative_rate(scope, month, today)
        # the month's bills, partly paid within the month and more since
        assert in_period.whole > 0, month
        assert Decimal("0.15") < in_period.rate < Decimal("0.9"), (month, in_period.percent)
        assert cumulative.rate >= in_period.rate, month
    # the older a month, the more of it has come in by now
    first, last = past_months()[0], past_months()[-1]
    assert (
        selectors.cumulative_rate(scope, first, today).rate
        > selectors.cumulative_rate(scope, last, today).rate
    )


def test_money_from_earlier_months_comes_back_every_month(seeded, db):
    from wuye.reports import selectors

    scope = company()
    recovered = [m for m in past_months()[1:] if selectors.payment_split(scope, m).arrears > 0]
    cleared = [m for m in past_months()[1:] if (selectors.clearance_rate(scope, m).rate or 0) > 0]
    assert recovered == past_months()[1:]
    assert cleared == past_months()[1:]


def test_the_spring_festival_and_the_october_holidays_show_in_the_monthly_rate(seeded, db):
    from wuye.reports import selectors

    today = timezone.localdate()
    scope = company()
    rates = {m: selectors.period_rate(scope, m, today).rate for m in past_months()}
    median = sorted(rates.values())[len(rates) // 2]
    holidays = [m for m in rates if m[5:] in ("02", "10")]
    assert holidays  # eleven months hold at least one of them
    for month in holidays:
        assert rates[month] < median, (month, rates)


def test_arrears_age_from_days_to_most_of_a_year(seeded, db):
    from wuye.reports import selectors

    buckets = {b.code: b.amount for b in selectors.aging(company(), timezone.localdate())}
    owed = [code for code, amount in buckets.items() if amount > 0]
    assert len(owed) >= 5, buckets  # not yet due, 0-30, 31-90, 91-180, 181-365


def test_this_months_money_came_by_every_channel(seeded, db):
    from wuye.reports import selectors

    last_month = periods_billed()[-2]
    mix = selectors.channel_mix(company(), last_month.start, last_month.end)
    channels = {row["channel"] for row in mix if row["received"] > 0}
    assert channels == {"wechat", "alipay", "transfer", "cash", "pos"}


def test_the_summaries_are_up_to_date_so_the_dashboard_opens_at_once(seeded, db, client):
    from wuye.demo.cycle import _staff
    from wuye.reports import summaries

    # nothing left for the first page view (or the job) to fold in
    assert summaries.pending() == 0
    client.force_login(_staff("supervisor"))
    response = client.get("/reports/")
    assert response.status_code == 200
    assert response.context["f"].year_rate.rate > Decimal("0.5")
