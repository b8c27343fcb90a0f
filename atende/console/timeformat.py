"""``dateformat.format`` with its output kept per process by the parts of the instant it reads: a format such as
``N j, Y, P`` is cut into a date part (kept per language and day) and a time part (per language, hour and
minute), so a page's fifty timestamps mostly cost two dictionary look-ups each instead of about forty calls.
Each format character writes its own text from the instant alone, so the parts joined are what the whole
format writes."""

from __future__ import annotations

from datetime import datetime

from django.utils import dateformat

_DATE = frozenset("bdDEFjlLmMnNoSStwWyYz")
_MINUTE = frozenset("aAfgGhHiP")  # read the hour and minute only
_SECOND = frozenset("su")
_PLANS: dict[str, tuple[tuple[str, str], ...] | None] = {}
_PARTS: dict[tuple, str] = {}
_MOST = 50_000  # parts kept before the store starts afresh (days × minutes × languages stay far below it)


def _plan(format_string: str) -> tuple[tuple[str, str], ...] | None:
    """The format's runs as (kind, sub-format); None when a character reads the time zone or the whole instant."""
    pieces = dateformat.re_formatchars.split(format_string)
    runs: list[list[str]] = []
    kind = None
    for index, piece in enumerate(pieces):
        if index % 2 == 0:  # literal text (with its backslash escapes): stays with the run before it
            if runs:
                runs[-1][1] += piece
            elif piece:
                runs.append(["date", piece])
            continue
        this = "date" if piece in _DATE else "minute" if piece in _MINUTE else "second" if piece in _SECOND else None
        if this is None:
            return None
        if runs and (runs[-1][0] == this or kind is None):
            runs[-1][0] = this
            runs[-1][1] += piece
        else:
            runs.append([this, piece])
        kind = this
    return tuple((k, sub) for k, sub in runs)


def format_local(local: datetime, format_string: str, language: str) -> str:
    """``dateformat.format(local, format_string)`` in ``language`` (the active one), ``local`` already in the
    reader's time zone."""
    plan = _PLANS.get(format_string, ())
    if plan == ():
        plan = _PLANS[format_string] = _plan(format_string)
    if plan is None:
        return dateformat.format(local, format_string)
    out = []
    for kind, sub in plan:
        if kind == "date":
            key = (language, sub, local.year, local.month, local.day)
        elif kind == "minute":
            key = (language, sub, local.hour, local.minute)
        else:
            key = (language, sub, local.hour, local.minute, local.second, local.microsecond)
        text = _PARTS.get(key)
        if text is None:
            if len(_PARTS) >= _MOST:
                _PARTS.clear()
            text = _PARTS[key] = dateformat.format(local, sub)
        out.append(text)
    return "".join(out)
