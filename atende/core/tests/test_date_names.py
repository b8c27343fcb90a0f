"""Brazilian Portuguese writes month names (and short weekday names) in lower case: "6 de dezembro de 2026"."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format

PT_MONTHS = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
             "novembro", "dezembro"]
DAYS = [datetime.date(2026, month, day) for month in range(1, 13) for day in (1, 6, 28)]


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_portuguese_dates_name_months_in_lower_case(day):
    with translation.override("pt-br"):
        assert date_format(day, "DATE_FORMAT") == f"{day.day} de {PT_MONTHS[day.month - 1]} de {day.year}"
        assert date_format(day, "MONTH_DAY_FORMAT") == f"{day.day} de {PT_MONTHS[day.month - 1]}"
        assert date_format(day, "YEAR_MONTH_FORMAT") == f"{PT_MONTHS[day.month - 1]} de {day.year}"
        moment = datetime.datetime.combine(day, datetime.time(9, 30))
        for fmt in ("F", "E", "N", "b", "D", "DATETIME_FORMAT", "D j N"):
            text = date_format(moment, fmt)
            assert text == text.lower(), (fmt, text)
        rendered = Template('{{ d|date:"DATE_FORMAT" }}').render(Context({"d": day}))
        assert rendered == date_format(day, "DATE_FORMAT")


def test_english_keeps_its_capitals():
    with translation.override("en"):
        assert date_format(datetime.date(2026, 12, 6), "DATE_FORMAT") == "Dec. 6, 2026"
        assert date_format(datetime.date(2026, 12, 6), "F") == "December"
