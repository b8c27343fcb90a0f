"""Schemas shared by every resource: errors, references to related objects, pages."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class InputSchema(Schema):
    """The base of every request body: a field the schema does not name is refused (422 ``unknown_field``)
    rather than dropped without a word. A test checks every body of every operation derives from it."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorBody


# Documented on every operation so clients (and the schema fuzz test) know the error shapes.
ERRORS: dict[int, type[Schema]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)}


def responses(ok: dict[int, Any] | Any, status: int = 200) -> dict[int, Any]:
    """``{status: schema}`` plus the shared error responses."""
    ok = ok if isinstance(ok, dict) else {status: ok}
    return {**ERRORS, **ok}


class Ref(Schema):
    """A related object, as a link: its id and a readable name."""

    id: int
    name: str


class UserRef(Schema):
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
