"""The period's window at every hour of the day and in zones with odd offsets and daylight saving: "the last N
days" starts at the reader's local midnight N - 1 days back, whatever the hour the report is read at."""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from atende.reports.selectors.scope import PERIODS, bucket_days, report_scope

ZONES = ["UTC", "America/Sao_Paulo", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham", "America/Santiago", "Asia/Beirut"]


# Chile's clocks go from 00:00 to 01:00 on 2024-09-08: that local midnight never happened.
@example(now=datetime.datetime(2024, 9, 14, 15, tzinfo=datetime.UTC), zone="America/Santiago", period="7d")
@given(now=st.datetimes(min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2035, 1, 1),
                        timezones=st.just(datetime.UTC)),
       zone=st.sampled_from(ZONES), period=st.sampled_from(sorted(PERIODS)))
def test_a_period_starts_at_local_midnight_and_counts_today_as_a_day(now, zone, period):
    days, bucket = PERIODS[period]
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        scope = report_scope(period=period, now=now)
        # Through UTC: a zone-aware value converted to its own zone is returned as it is, gap hours included.
        since = timezone.localtime(scope.since.astimezone(datetime.UTC))
        today = timezone.localtime(now).date()
        assert scope.until == now and since <= now
        assert today - since.date() == datetime.timedelta(days=days - 1)
        # The window opens at the first moment of its first local day (01:00 where that day's midnight never was).
        before = timezone.localtime((scope.since - datetime.timedelta(microseconds=1)).astimezone(datetime.UTC))
        assert before.date() == since.date() - datetime.timedelta(days=1)
        if bucket == "day":
            assert len(bucket_days(scope, bucket)) == days
