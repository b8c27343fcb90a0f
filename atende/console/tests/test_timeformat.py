"""The timeline's times, kept per process by day and minute, must be what Django's ``date`` filter writes, in each
language and time zone, and a format cut into parts what the whole format writes."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.template import engines
from django.utils import dateformat, timezone, translation

from atende.console.timeformat import format_local
from atende.console.views.ticket_timeline import _Clock

ZONES = ["UTC", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham", "America/New_York"]


def _instants():
    rng = random.Random(5)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fixed = [datetime(2026, 12, 7, 0, 0, tzinfo=UTC), datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
             datetime(2026, 3, 8, 6, 59, 59, 999_999, tzinfo=UTC), datetime(2024, 2, 29, 23, 30, tzinfo=UTC)]
    return fixed + [start + timedelta(seconds=rng.randrange(3 * 365 * 86400), microseconds=rng.randrange(10 ** 6))
                    for _ in range(150)]


@pytest.mark.parametrize("language", ["en", "pt-br"])
@pytest.mark.parametrize("zone", ZONES)
def test_timeline_times_are_what_the_date_filter_wrote(language, zone):
    template = engines["django"].from_string(
        '{{ t|date:"c" }}|{{ t|date:"DATETIME_FORMAT" }}|{{ t|date:"SHORT_DATETIME_FORMAT" }}')
    with translation.override(language), timezone.override(zone):
        clock = _Clock()
        for _ in range(2):  # the second round from the kept parts
            for instant in _instants():
                times = clock(instant)
                iso, long, short = template.render({"t": instant}).split("|")
                assert (times.long, times.short) == (long, short), instant
                assert datetime.fromisoformat(times.iso) == datetime.fromisoformat(iso) == instant


@pytest.mark.parametrize("language", ["en", "pt-br"])
@pytest.mark.parametrize("format_string", [
    "N j, Y, P", "m/d/Y P", "d/m/Y H:i", r"j \d\e F \d\e Y \à\s H:i", "D, d M Y H:i:s.u", "l jS F Y, g:i a A",
    "Y-m-d\\TH:i:s", "P", "", "H\\h i\\m", "W o L t z w E b", "c", "r e O T Z U I",
])
def test_a_format_cut_into_parts_writes_what_the_whole_writes(language, format_string):
    with translation.override(language), timezone.override("America/Sao_Paulo"):
        for _ in range(2):
            for instant in _instants():
                local = timezone.localtime(instant)
                assert format_local(local, format_string, language) == dateformat.format(local, format_string)
