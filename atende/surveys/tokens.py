"""The survey link: signed, for one ticket and its requester, expiring after ``SURVEY_TOKEN_MAX_AGE``."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from atende.core.exceptions import ValidationError

SALT = "atende.surveys.rate"


class InvalidSurveyToken(ValidationError):
    """The survey link is damaged or expired."""

    code = "invalid_survey_token"


def make_token(*, ticket_id: int, requester_id: int) -> str:
    return signing.dumps({"t": ticket_id, "r": requester_id}, salt=SALT, compress=True)


def read_token(token: str) -> tuple[int, int]:
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.SURVEY_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidSurveyToken(_("This survey link has expired."), code="survey_link_expired")
    except signing.BadSignature:
        raise InvalidSurveyToken(_("This survey link is not valid. Check that you copied all of it."))
    return int(data["t"]), int(data["r"])
