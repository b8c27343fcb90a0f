"""Business-time arithmetic: the two primitives every SLA and time rule uses.

A calendar is weekly opening hours in a time zone plus holidays. Opening hours are minutes from local midnight
(0..1440), so "09:00–18:00" is (540, 1080) and "until midnight" is 1440. Each local day's intervals are turned
into UTC instants with ``zoneinfo`` (fold=0), which makes the arithmetic correct across daylight-saving changes:
a day whose clocks jump forward simply has a shorter interval, a day whose clocks go back a longer one, and a
local time that does not exist (São Paulo's old midnight transitions) maps to the first instant after the gap.

All arithmetic happens on UTC ``timedelta``s, so results are exact to the microsecond.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
MAX_DAYS = 3 * 366  # a calendar with (almost) no opening hours must not loop forever
ZERO = dt.timedelta(0)


@dataclass(frozen=True)
class CalendarSpec:
    """An immutable business calendar. ``hours[weekday]`` (Monday = 0) is a tuple of (start, end) minute pairs."""

    time_zone: str = "UTC"
    hours: tuple[tuple[tuple[int, int], ...], ...] = field(default_factory=lambda: ((),) * 7)
    holidays: frozenset[dt.date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()  # (month, day)
    always_open: bool = False

    def __post_init__(self):
        if len(self.hours) != 7:
            raise ValueError("hours needs one entry per weekday")
        for day in self.hours:
            previous_end = -1
            for start, end in sorted(day):
                if not (0 <= start < end <= 1440):
                    raise ValueError(f"invalid opening interval {format_hhmm(start)}–{format_hhmm(end)}")
                if start < previous_end:
                    raise ValueError("opening intervals on the same day overlap")
                previous_end = end
        if not self.always_open and not any(self.hours):
            raise ValueError("a business calendar needs opening hours on at least one weekday")

    @classmethod
    def twenty_four_seven(cls) -> CalendarSpec:
        return cls(always_open=True)

    @classmethod
    def weekly(cls, *, time_zone: str, days: Iterable[int], start: str, end: str, holidays: Iterable[dt.date] = (),
               yearly_holidays: Iterable[tuple[int, int]] = ()) -> CalendarSpec:
        """Convenience: the same ``start``–``end`` ("09:00", "18:00") on each weekday in ``days``."""
        interval = (parse_hhmm(start), parse_hhmm(end))
        hours = tuple((interval,) if d in set(days) else () for d in range(7))
        return cls(time_zone=time_zone, hours=hours, holidays=frozenset(holidays),
                   yearly_holidays=frozenset(yearly_holidays))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The UTC intervals during which the business is open on local date ``day``."""
        if self.is_holiday(day):
            return []
        tz = self.tz
        result = []
        for start, end in sorted(self.hours[day.weekday()]):
            a = _local_instant(day, start, tz)
            b = _local_instant(day, end, tz)
            if b > a:
                result.append((a, b))
        return result


def parse_hhmm(value: str) -> int:
    hours, _, minutes = value.strip().partition(":")
    total = int(hours) * 60 + int(minutes or 0)
    if not 0 <= total <= 1440:
        raise ValueError(f"{value!r} is not a time of day")
    return total


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _local_instant(day: dt.date, minute: int, tz: ZoneInfo) -> dt.datetime:
    if minute >= 1440:
        day, minute = day + dt.timedelta(days=1), minute - 1440
    local = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)
    # Round-trip through UTC: a wall time inside a DST gap becomes the real instant just after the gap.
    return local.astimezone(UTC)


def _as_utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None:
        raise ValueError("business time needs aware datetimes")
    return t.astimezone(UTC)


def _intervals_from(cal: CalendarSpec, t: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Open intervals (clipped to start at ``t``) in chronological order, starting with the day containing ``t``."""
    day = t.astimezone(cal.tz).date() - dt.timedelta(days=1)  # the previous local day may run past midnight
    empty_days = 0
    while empty_days < MAX_DAYS:
        intervals = cal.intervals_on(day)
        empty_days = 0 if intervals else empty_days + 1
        for a, b in intervals:
            if b > t:
                yield max(a, t), b
        day += dt.timedelta(days=1)
    raise ValueError("no opening hours found within three years; check the calendar")


def add_business_time(cal: CalendarSpec, t: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The instant at which ``amount`` of business time has elapsed after ``t``."""
    t = _as_utc(t)
    if amount < ZERO:
        raise ValueError("amount must not be negative")
    if amount == ZERO:
        return t
    if cal.always_open:
        return t + amount
    remaining = amount
    for a, b in _intervals_from(cal, t):
        span = b - a
        if remaining <= span:
            return a + remaining
        remaining -= span
    raise AssertionError("unreachable")


def business_time_between(cal: CalendarSpec, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Business time from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
    a, b = _as_utc(a), _as_utc(b)
    if b < a:
        return -business_time_between(cal, b, a)
    if cal.always_open:
        return b - a
    total = ZERO
    for start, end in _intervals_from(cal, a):
        if start >= b:
            break
        total += min(end, b) - start
    return total


def add_business_minutes(cal: CalendarSpec, t: dt.datetime, n: float) -> dt.datetime:
    """``t`` plus ``n`` business minutes."""
    return add_business_time(cal, t, dt.timedelta(minutes=n))


def business_minutes_between(cal: CalendarSpec, a: dt.datetime, b: dt.datetime) -> float:
    """Business minutes from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
    return business_time_between(cal, a, b) / dt.timedelta(minutes=1)


def is_open(cal: CalendarSpec, t: dt.datetime) -> bool:
    if cal.always_open:
        return True
    t = _as_utc(t)
    start, _end = next(_intervals_from(cal, t))
    return start == t
