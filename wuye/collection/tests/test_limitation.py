"""The limitation clock (诉讼时效): three years per billing period from its due date, restarted
only by evidenced events; a notice-board post or a group broadcast changes nothing."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wuye.collection import limitation_selectors as sel
from wuye.collection.limitation import Event, add_years, period_clock

from .books import charge, delivered_message, pay

DUE = date(2023, 1, 28)
TODAY = date(2025, 12, 1)


def clock(*events, today=TODAY, period="2023-01", due=DUE):
    return period_clock(period=period, due_date=due, events=events, today=today)


# --- the arithmetic -------------------------------------------------------------------------


def test_three_years_from_the_due_date_without_any_event():
    c = clock()
    assert c.ends_on == date(2026, 1, 28)
    assert not c.barred and c.days_left == 58 and c.ending_soon


@pytest.mark.parametrize(
    "kind",
    [
        "demand_delivered",
        "message_delivered",
        "part_payment",
        "promise_signed",
        "plan_signed",
        "filing",
    ],
)
def test_each_evidenced_event_restarts_the_clock_from_its_date(kind):
    # given a period due 2023-01-28, and an evidenced event on 2024-06-01
    event = Event(on=date(2024, 6, 1), kind=kind, evidence="proof", periods=None)
    # then the clock ends three years after the event, not after the due date
    c = clock(event)
    assert c.ends_on == date(2027, 6, 1) and c.restarts == [event]
    assert not c.ending_soon


@pytest.mark.parametrize("kind", ["notice_board", "group_broadcast"])
def test_a_notice_board_post_or_a_group_broadcast_does_not_restart_it(kind):
    event = Event(on=date(2024, 6, 1), kind=kind, evidence="photo of the notice board")
    c = clock(event)
    assert c.ends_on == date(2026, 1, 28) and c.ignored == [event] and not c.restarts


def test_an_event_without_evidence_does_not_restart_it():
    c = clock(Event(on=date(2024, 6, 1), kind="demand_delivered", evidence=""))
    assert c.ends_on == date(2026, 1, 28)


def test_an_event_for_other_periods_does_not_restart_this_one():
    c = clock(
        Event(on=date(2024, 6, 1), kind="plan_signed", evidence="x", periods=frozenset({"2023-02"}))
    )
    assert c.ends_on == date(2026, 1, 28)


def test_a_period_past_its_end_is_barred_and_a_later_event_does_not_revive_it():
    late = Event(on=date(2026, 3, 1), kind="part_payment", evidence="payment #9")
    c = clock(late, today=date(2026, 6, 1))
    assert c.barred and c.ends_on == date(2026, 1, 28) and c.ignored == [late]


def test_29_february_ends_on_28_february():
    assert add_years(date(2024, 2, 29)) == date(2027, 2, 28)


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=3000),
            st.sampled_from(["part_payment", "group_broadcast", "notice_board", "filing"]),
        ),
        max_size=6,
    )
)
def test_the_end_never_moves_back_and_only_restarting_events_move_it(raw):
    events = [Event(on=DUE + timedelta(days=d), kind=k, evidence="e") for d, k in raw]
    today = DUE + timedelta(days=4000)
    c = clock(*events, today=today)
    assert c.ends_on >= add_years(DUE)
    broadcasts_only = clock(*[e for e in events if not e.restarts], today=today)
    assert broadcasts_only.ends_on == add_years(DUE)
    if c.restarts:
        assert c.ends_on == add_years(c.restarts[-1].on)


# --- the events on the record ---------------------------------------------------------------


def test_a_part_payment_restarts_the_periods_it_paid_into(make_staff, estate, unit, owner):
    # given two old periods owed
    cashier = make_staff("cashier", estates=[estate])
    jan = charge(unit, owner, "2023-01", "250.00")
    charge(unit, owner, "2023-02", "250.00", due=date(2023, 2, 28))
    # when the owner pays part of January on 2024-05-10
    pay(cashier, owner, "100.00", on=date(2024, 5, 10), charge_ids=[jan.pk])
    # then January's clock runs from the payment; February's from its due date
    clocks = {c.period: c for c in sel.party_clocks(owner, today=TODAY)}
    assert clocks["2023-01"].ends_on == date(2027, 5, 10)
    assert clocks["2023-02"].ends_on == date(2026, 2, 28)


def test_a_message_delivered_to_the_owners_own_phone_restarts_it_but_not_elsewhere(
    estate, unit, owner
):
    charge(unit, owner, "2023-01", "250.00")
    # an SMS to someone else's number (a neighbour's) proves nothing
    delivered_message(owner, channel="sms", on=date(2024, 1, 5), address="13900000000")
    # a bill notice is no demand
    delivered_message(
        owner, channel="sms", on=date(2024, 2, 5), address=owner.mobile, purpose="bill_notice"
    )
    assert sel.party_clocks(owner, today=TODAY)[0].ends_on == date(2026, 1, 28)
    # the reminder delivered to the owner's own mobile does
    delivered_message(owner, channel="sms", on=date(2024, 3, 5), address=owner.mobile)
    assert sel.party_clocks(owner, today=TODAY)[0].ends_on == date(2027, 3, 5)


def test_a_registered_letter_counts_only_with_its_tracking_number(estate, unit, owner):
    charge(unit, owner, "2023-01", "250.00")
    delivered_message(owner, channel="letter", on=date(2024, 1, 5), purpose="formal_demand")
    assert sel.party_clocks(owner, today=TODAY)[0].ends_on == date(2026, 1, 28)
    delivered_message(
        owner,
        channel="letter",
        on=date(2024, 4, 5),
        purpose="formal_demand",
        tracking_number="XA123456789CN",
    )
    c = sel.party_clocks(owner, today=TODAY)[0]
    assert c.ends_on == date(2027, 4, 5)
    assert "XA123456789CN" in c.restarts[0].evidence


def test_the_list_of_periods_ending_within_90_days_and_the_barred_ones(
    estate, unit, owner, other_estate
):
    # given one period ending in 58 days, one barred, one far off
    charge(unit, owner, "2023-01", "250.00")  # ends 2026-01-28
    charge(unit, owner, "2022-10", "240.00", due=date(2022, 10, 28))  # ended 2025-10-28
    charge(unit, owner, "2024-01", "250.00")  # ends 2027-01-28
    soon = sel.periods_ending_within(estate, today=TODAY)
    assert [(r.clock.period, r.clock.days_left) for r in soon] == [("2023-01", 58)]
    barred = sel.periods_ending_within(estate, today=TODAY, barred=True)
    assert [r.clock.period for r in barred] == ["2022-10"]
    assert str(barred[0].outstanding) == "240.00"
    # and another estate's list is its own
    assert sel.periods_ending_within(other_estate, today=TODAY) == []
