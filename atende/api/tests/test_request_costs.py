"""What the API itself costs around the work a request asks for: pinned, so the framework share stays small."""

from __future__ import annotations

import datetime
import sys
from collections import Counter

import pytest
from ninja import Schema
from pydantic import create_model

import atende.api.routers.tickets as tickets_router
from atende.api.routers.ticket_schemas import TicketOut
from atende.api.schemas import ErrorOut, OutSchema

pytestmark = pytest.mark.django_db


def _calls_outside(monkeypatch, name: str, run) -> int:
    """Python and builtin calls made by ``run()``, leaving out those of ``tickets_router.<name>`` (the domain
    work, measured on its own by the tickets app)."""
    counts = Counter()

    def count(frame, event, arg):
        if event in ("call", "c_call"):
            counts["calls"] += 1

    real = getattr(tickets_router, name)

    def unmeasured(*args, **kwargs):
        sys.setprofile(None)
        try:
            return real(*args, **kwargs)
        finally:
            sys.setprofile(count)

    monkeypatch.setattr(tickets_router, name, unmeasured)
    sys.setprofile(count)
    try:
        run()
    finally:
        sys.setprofile(None)
    return counts["calls"]


def test_opening_a_ticket_costs_the_api_a_bounded_number_of_calls(api_as, agent, monkeypatch):
    """Around ``ticket_create``: the token and the requester each found with SQL compiled once per process
    (``core.prepared``), the response validated without a getter per field (``OutSchema``). About 8,700 calls
    before (token look-up 3,150, requester look-up 2,600, the response validated twice 790); about 2,500 after,
    test client included."""
    client = api_as(agent)
    body = {"subject": "Export fails", "body": "Hello", "requester_email": "known@calls.example"}
    for _ in range(2):  # the requester exists, and everything compiled once is compiled
        assert client.post("/tickets", body).status_code == 201
    responses = []
    calls = _calls_outside(monkeypatch, "ticket_create", lambda: responses.append(client.post("/tickets", body)))
    assert responses[0].status_code == 201
    assert calls < 3_500, calls


_SlowTicketOut = create_model("TicketOut", __base__=Schema,
                              **{name: (field.annotation, field) for name, field in TicketOut.model_fields.items()})


@pytest.mark.parametrize("data", [
    {"id": 1, "number": 7, "subject": "Hi", "tags": ["a", "b"], "custom_fields": {"x": [1, {"y": None}]},
     "created_at": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC), "sla_due_at": None,
     "requester": {"id": 3, "name": "Ana", "email": "ana@example.com", "role": "customer"},
     "team": {"id": 4, "name": "Support"}, "is_spam": False, "reopen_count": 2},
    {"id": 2},  # fields= left only the id: the rest stays unset
    {"id": "3", "number": "8", "created_at": "2026-01-02T03:04:05Z"},  # coerced as before
    {"id": 4, "subject": lambda: "called"},  # not plain: the getter's way (it calls callables)
])
def test_a_plain_dict_validates_as_through_the_getter(data):
    fast, slow = TicketOut.model_validate(data), _SlowTicketOut.model_validate(data)
    for mode in ("python", "json"):
        assert fast.model_dump(mode=mode, exclude_unset=True) == slow.model_dump(mode=mode, exclude_unset=True)
    assert fast.model_fields_set == slow.model_fields_set


def test_invalid_output_is_refused_the_same_way():
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as fast:
        TicketOut.model_validate({"id": "x", "tags": "no"})
    with pytest.raises(ValidationError) as slow:
        _SlowTicketOut.model_validate({"id": "x", "tags": "no"})
    assert [(e["loc"], e["type"]) for e in fast.value.errors()] == [(e["loc"], e["type"]) for e in slow.value.errors()]
    assert issubclass(ErrorOut, OutSchema)


def test_a_json_body_validates_once_as_it_did_twice():
    """``InputSchema``: the dict's own validation (which refuses unknown fields) is the result; the same fields
    set, values and errors as django-ninja's second pass through its getter gave."""
    from pydantic import ValidationError

    from atende.api.routers.ticket_schemas import TicketCreateIn

    slow_cls = create_model("TicketCreateIn", __base__=Schema,
                            **{name: (field.annotation, field) for name, field in TicketCreateIn.model_fields.items()})
    body = {"subject": "Hi", "body": "Hello", "requester_email": "a@example.com", "tags": ["x"],
            "custom_fields": {"k": 1}}
    fast = TicketCreateIn.model_validate(body)
    assert fast.model_dump() == slow_cls.model_validate(body).model_dump()
    assert fast.model_fields_set == set(body)
    with pytest.raises(ValidationError) as refused:
        TicketCreateIn.model_validate({**body, "colour": "red"})
    assert [e["type"] for e in refused.value.errors()] == ["extra_forbidden"]
