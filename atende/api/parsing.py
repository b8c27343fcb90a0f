"""How the API reads a JSON body: strictly. ``application/json`` only (415 otherwise), UTF-8 only, no
``NaN``/``Infinity``, integers within 64 bits, nesting at most ``API_JSON_MAX_DEPTH`` deep (400 otherwise).

Ninja wraps whatever ``parse_body`` raises in ``HttpError(400)``; ``atende.api.errors`` reads the cause back to
answer 415 or 400 with a code that says what was wrong. Form and multipart endpoints never call ``parse_body``.
"""

from __future__ import annotations

import json

from django.conf import settings
from ninja.parser import Parser

INT64 = 2**63


class UnsupportedMediaType(Exception):
    def __init__(self, content_type: str):
        super().__init__(f"Send the body as application/json (got {content_type or 'no Content-Type'}).")
        self.content_type = content_type


class InvalidJSON(Exception):
    """The body is not a JSON document the API accepts; the message says why."""


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _bounded_int(text: str) -> int:
    if len(text) > 20:
        raise InvalidJSON("A number in the body is too large.")
    value = int(text)
    if not -INT64 <= value < INT64:
        raise InvalidJSON("A number in the body is too large.")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidJSON("A number in the body is too large.")
    return value


def _no_constant(name: str):
    raise InvalidJSON(f"{name} is not a JSON number.")


def _depth(value, limit: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                raise InvalidJSON(f"The body is nested more than {limit} levels deep.")
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))


class StrictJSONParser(Parser):
    def parse_body(self, request):
        content_type = request.META.get("CONTENT_TYPE", "")
        if not is_json_type(content_type):
            raise UnsupportedMediaType(content_type)
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidJSON("The body is not valid UTF-8.") from exc
        try:  # the C parser refuses nesting deeper than the interpreter's recursion limit (RecursionError)
            data = json.loads(text, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
        except InvalidJSON:
            raise
        except (ValueError, RecursionError) as exc:
            raise InvalidJSON(f"The body is not valid JSON: {str(exc)[:200]}") from exc
        _depth(data, settings.API_JSON_MAX_DEPTH)
        return data

