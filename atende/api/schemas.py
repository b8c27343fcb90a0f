"""Schemas shared by every resource: errors, references to related objects, pages."""

from __future__ import annotations

import datetime
import decimal
import uuid
from itertools import repeat
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, ValidationInfo, model_validator
from pydantic.functional_validators import ModelWrapValidatorHandler

# Values that django-ninja's ``DjangoGetter`` hands on unchanged (it calls callables, lists managers and
# querysets, and turns files into URLs): a dict holding only these validates the same without it.
_PLAIN = (str, int, float, type(None), datetime.date, datetime.time, datetime.timedelta, decimal.Decimal, uuid.UUID,
          list, tuple, dict)


class OutSchema(Schema):
    """The base of response bodies built as plain dicts (``ticket_data`` and the like). django-ninja reads every
    field of every output through a ``DjangoGetter`` (made for model instances: about ten Python calls a field);
    a dict of plain values is validated directly, with the same result. Anything else goes the usual way."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler, info: ValidationInfo) -> Any:
        if (type(values) is dict and not cls._ninja_resolvers and cls.model_config.get("extra") != "forbid"
                and all(map(isinstance, values.values(), repeat(_PLAIN)))):
            return handler(values)
        return super()._run_root_validator(values, handler, info)


class InputSchema(Schema):
    """The base of every request body: a field the schema does not name is refused (422 ``unknown_field``)
    rather than dropped without a word. A test checks every body of every operation derives from it.

    django-ninja validates a body of a schema that forbids extra fields twice: the dict itself (which refuses
    unknown fields), then again through a ``DjangoGetter``. For a dict of plain values (every JSON body) the
    first validation is the result; anything else still goes the usual way (see ``OutSchema``)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler, info: ValidationInfo) -> Any:
        if type(values) is dict and not cls._ninja_resolvers and all(map(isinstance, values.values(), repeat(_PLAIN))):
            return handler(values)
        return super()._run_root_validator(values, handler, info)


class ErrorBody(OutSchema):
    code: str
    message: str
    details: Any = None


class ErrorOut(OutSchema):
    error: ErrorBody


# Documented on every operation so clients (and the schema fuzz test) know the error shapes.
ERRORS: dict[int, type[Schema]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)}


def responses(ok: dict[int, Any] | Any, status: int = 200) -> dict[int, Any]:
    """``{status: schema}`` plus the shared error responses."""
    ok = ok if isinstance(ok, dict) else {status: ok}
    return {**ERRORS, **ok}


class Ref(OutSchema):
    """A related object, as a link: its id and a readable name."""

    id: int
    name: str


class UserRef(OutSchema):
    id: int
    name: str
    email: str
    role: str


def user_ref(user) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.display_name, "email": user.email or "", "role": user.role}


def ref(obj) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None
