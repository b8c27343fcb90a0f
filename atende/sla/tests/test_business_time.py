"""Business-time arithmetic: named cases (weekends, holidays, midnight, DST in São Paulo and London) and
properties checked with hypothesis."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atende.sla.business_time import (
    CalendarSpec,
    add_business_minutes,
    business_minutes_between,
    is_open,
)

UTC = dt.UTC
WEEKDAYS = range(5)


def local(tz: str, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(tz))


LONDON = CalendarSpec.weekly(time_zone="Europe/London", days=WEEKDAYS, start="09:00", end="17:00")
SAO_PAULO = CalendarSpec.weekly(time_zone="America/Sao_Paulo", days=WEEKDAYS, start="09:00", end="18:00")
# Open around the clock on weekdays, so a DST change at midnight falls inside opening hours.
SAO_PAULO_24H = CalendarSpec.weekly(time_zone="America/Sao_Paulo", days=range(7), start="00:00", end="24:00")
LONDON_NIGHT = CalendarSpec(time_zone="Europe/London",
                            hours=tuple(((0, 180),) if d == 6 else () for d in range(7)))  # Sundays 00:00-03:00
SPLIT_DAY = CalendarSpec(time_zone="America/Sao_Paulo",
                         hours=tuple(((540, 720), (780, 1080)) if d < 5 else () for d in range(7)),
                         holidays=frozenset({dt.date(2024, 11, 15)}), yearly_holidays=frozenset({(12, 25)}))


def test_add_within_the_same_day():
    start = local("Europe/London", 2024, 3, 5, 10, 0)  # Tuesday
    assert add_business_minutes(LONDON, start, 90) == local("Europe/London", 2024, 3, 5, 11, 30)


def test_add_rolls_over_the_night_and_the_weekend():
    friday = local("Europe/London", 2024, 3, 8, 16, 0)
    # one hour left on Friday, then Monday 09:00 + 60 minutes
    assert add_business_minutes(LONDON, friday, 120) == local("Europe/London", 2024, 3, 11, 10, 0)


def test_start_outside_hours_begins_at_next_opening():
    saturday = local("Europe/London", 2024, 3, 9, 12, 0)
    assert add_business_minutes(LONDON, saturday, 30) == local("Europe/London", 2024, 3, 11, 9, 30)
    assert business_minutes_between(LONDON, saturday, local("Europe/London", 2024, 3, 11, 9, 0)) == 0


def test_zero_minutes_is_the_same_instant():
    t = local("Europe/London", 2024, 3, 9, 12, 0)
    assert add_business_minutes(LONDON, t, 0) == t


def test_london_spring_forward_week_keeps_local_opening_hours():
    # Clocks go forward on Sunday 31 March 2024: Friday 17:00 GMT to Monday 09:00 BST is closed time.
    friday = local("Europe/London", 2024, 3, 29, 16, 0)
    due = add_business_minutes(LONDON, friday, 120)
    assert due == local("Europe/London", 2024, 4, 1, 10, 0)
    assert due.astimezone(UTC) == dt.datetime(2024, 4, 1, 9, 0, tzinfo=UTC)  # BST = UTC+1


def test_london_night_shift_on_spring_forward_is_one_hour_shorter():
    # Sunday 31 March 2024 00:00-03:00 local: 01:00-02:00 does not exist, so only two real hours.
    start = local("Europe/London", 2024, 3, 31, 0, 0)
    end = local("Europe/London", 2024, 3, 31, 3, 0)
    assert business_minutes_between(LONDON_NIGHT, start, end) == 120


def test_london_night_shift_on_fall_back_is_one_hour_longer():
    # Sunday 27 October 2024: 01:00-02:00 happens twice.
    start = local("Europe/London", 2024, 10, 27, 0, 0)
    end = local("Europe/London", 2024, 10, 27, 3, 0)
    assert business_minutes_between(LONDON_NIGHT, start, end) == 240


def test_sao_paulo_dst_started_at_midnight():
    # 4 November 2018: clocks jumped from 00:00 to 01:00 (−03 to −02); the day had 23 hours.
    saturday_evening = local("America/Sao_Paulo", 2018, 11, 3, 23, 0)
    sunday_end = local("America/Sao_Paulo", 2018, 11, 4, 23, 0)
    assert business_minutes_between(SAO_PAULO_24H, saturday_evening, sunday_end) == 23 * 60
    # 90 minutes after 23:00 on Saturday is 01:30 local time on Sunday (00:00-01:00 does not exist).
    due = add_business_minutes(SAO_PAULO_24H, saturday_evening, 90)
    assert due.astimezone(ZoneInfo("America/Sao_Paulo")).replace(tzinfo=None) == dt.datetime(2018, 11, 4, 1, 30)


def test_sao_paulo_dst_ended_at_midnight():
    # 17 February 2019: clocks went back from 00:00 to 23:00 on the 16th (−02 to −03): a 25-hour Saturday.
    start = local("America/Sao_Paulo", 2019, 2, 16, 0, 0)
    end = local("America/Sao_Paulo", 2019, 2, 17, 0, 0)
    assert business_minutes_between(SAO_PAULO_24H, start, end) == 25 * 60


def test_sao_paulo_office_hours_are_nine_hours_on_each_side_of_a_dst_change():
    friday = local("America/Sao_Paulo", 2018, 11, 2, 9, 0)
    monday = local("America/Sao_Paulo", 2018, 11, 5, 18, 0)
    assert business_minutes_between(SAO_PAULO, friday, monday) == 2 * 9 * 60


def test_split_day_and_holidays():
    thursday = local("America/Sao_Paulo", 2024, 11, 14, 11, 0)
    # 1h until lunch, lunch skipped, 5h afternoon, Friday 15 Nov is a holiday, weekend, Monday 09:00 + 1h
    due = add_business_minutes(SPLIT_DAY, thursday, 7 * 60)
    assert due == local("America/Sao_Paulo", 2024, 11, 18, 10, 0)
    christmas = local("America/Sao_Paulo", 2025, 12, 25, 10, 0)  # yearly holiday, a Thursday
    assert not is_open(SPLIT_DAY, christmas)
    assert is_open(SPLIT_DAY, local("America/Sao_Paulo", 2025, 12, 26, 10, 0))


def test_between_is_negative_when_reversed():
    a = local("Europe/London", 2024, 3, 5, 10, 0)
    b = local("Europe/London", 2024, 3, 5, 12, 0)
    assert business_minutes_between(LONDON, b, a) == -120


def test_calendar_without_hours_is_refused():
    with pytest.raises(ValueError):
        CalendarSpec(time_zone="UTC")
    with pytest.raises(ValueError):
        CalendarSpec.weekly(time_zone="UTC", days=[0], start="10:00", end="09:00")


def test_twenty_four_seven_is_plain_arithmetic():
    cal = CalendarSpec.twenty_four_seven()
    t = dt.datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert add_business_minutes(cal, t, 61) == t + dt.timedelta(minutes=61)


# -- properties ---------------------------------------------------------------------------------------------------
CALENDARS = st.sampled_from([LONDON, SAO_PAULO, SAO_PAULO_24H, LONDON_NIGHT, SPLIT_DAY,
                             CalendarSpec.weekly(time_zone="Asia/Kolkata", days=[0, 2, 4, 6], start="22:00",
                                                 end="24:00")])
INSTANTS = st.datetimes(min_value=dt.datetime(2017, 1, 1), max_value=dt.datetime(2026, 12, 31),
                        timezones=st.just(UTC)).map(lambda t: t.replace(microsecond=0))
MINUTES = st.integers(min_value=0, max_value=60 * 24 * 20)
# Offsets from an instant, generated directly (not filtered), so spans stay under 400 days.
OFFSETS = st.timedeltas(min_value=dt.timedelta(days=-399), max_value=dt.timedelta(days=399)).map(
    lambda d: dt.timedelta(seconds=int(d.total_seconds())))


@settings(max_examples=150, deadline=None)
@given(cal=CALENDARS, t=INSTANTS, n=MINUTES)
def test_add_then_between_round_trips(cal, t, n):
    assert business_minutes_between(cal, t, add_business_minutes(cal, t, n)) == n


@settings(max_examples=150, deadline=None)
@given(cal=CALENDARS, t=INSTANTS, n=MINUTES, m=MINUTES)
def test_add_is_monotonic_in_minutes(cal, t, n, m):
    lo, hi = sorted([n, m])
    assert add_business_minutes(cal, t, lo) <= add_business_minutes(cal, t, hi)


@settings(max_examples=150, deadline=None)
@given(cal=CALENDARS, a=INSTANTS, b=INSTANTS, n=MINUTES)
def test_add_is_monotonic_in_start(cal, a, b, n):
    a, b = sorted([a, b])
    assert add_business_minutes(cal, a, n) <= add_business_minutes(cal, b, n)


@settings(max_examples=150, deadline=None)
@given(cal=CALENDARS, a=INSTANTS, to_b=OFFSETS, to_c=OFFSETS)
def test_between_is_additive(cal, a, to_b, to_c):
    b, c = a + to_b, a + to_c
    total = business_minutes_between(cal, a, c)
    assert business_minutes_between(cal, a, b) + business_minutes_between(cal, b, c) == pytest.approx(total)


@settings(max_examples=100, deadline=None)
@given(cal=CALENDARS, a=INSTANTS, span=OFFSETS)
def test_between_never_exceeds_wall_time(cal, a, span):
    a, b = sorted([a, a + span])
    assert 0 <= business_minutes_between(cal, a, b) <= (b - a).total_seconds() / 60


@settings(max_examples=100, deadline=None)
@given(cal=CALENDARS, t=INSTANTS, n=st.integers(min_value=1, max_value=60 * 24 * 20))
def test_a_positive_add_ends_inside_or_at_the_end_of_opening_hours(cal, t, n):
    due = add_business_minutes(cal, t, n)
    just_before = due - dt.timedelta(seconds=1)
    assert is_open(cal, just_before)
