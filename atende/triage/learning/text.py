"""Text normalisation shared by training and prediction (they must agree, or the model sees other words)."""

from __future__ import annotations

import re
import unicodedata

# Long texts (pasted logs, whole e-mail threads) add little past their start and would make prediction slow:
# every field is cut to this many characters before anything else looks at it.
MAX_FIELD_CHARS = 4000

_DATE_TIME = re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b|\b\d{1,2}:\d{2}(?::\d{2})?\b")
_RECEIVED_FROM = re.compile(r"received from:\s*\S+")
_EMAIL = re.compile(r"\S+@\S+")
_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")


def normalise(value: object) -> str:
    """Lower-cased text without dates, times, mail addresses and links, with runs of white space made one.

    Identifiers such as ``job_1424`` or ``sid_34`` stay whole: they often name the system, and so the team."""
    if value is None:
        return ""
    text = str(value)[:MAX_FIELD_CHARS]
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DATE_TIME.sub(" ", text)
    text = _RECEIVED_FROM.sub(" ", text)
    text = _URL.sub(" urladdr ", text)
    text = _EMAIL.sub(" emailaddr ", text)
    return _SPACE.sub(" ", text).strip()


def category_token(value: object) -> str:
    """A short value (a caller, a channel, an organisation) as one token: it is matched whole, never split."""
    if value is None:
        return ""
    return _SPACE.sub(" ", str(value)[:200]).strip().lower()
