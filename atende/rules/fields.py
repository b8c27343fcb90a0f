"""What a rule may look at: every ticket attribute a condition can name, with its kind and allowed values."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from itertools import filterfalse

from django.utils.translation import gettext_lazy as _

from atende.tickets.choices import (
    PRIORITY_RANK,
    ActorKind,
    Channel,
    Level,
    StatusCategory,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from atende.tickets.models import CustomField

CHOICE, REF, TEXT, TAGS, NUMBER = "choice", "ref", "text", "tags", "number"

LEVEL_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class FieldDef:
    name: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()
    ref: str = ""  # team, user, organization, category
    changeable: bool = False  # may be used with changed / changed_to / changed_from
    rank: dict | None = None  # ordered choices accept at_least / at_most


FIELDS: dict[str, FieldDef] = {f.name: f for f in [
    FieldDef("subject", _("Subject"), TEXT, changeable=True),
    FieldDef("body", _("Description (first message)"), TEXT),
    FieldDef("message", _("Text of the message that caused the event (else the latest reply)"), TEXT),
    FieldDef("requester_email", _("Requester's email"), TEXT),
    FieldDef("sender_domain", _("Sender's email domain"), TEXT),
    FieldDef("organization", _("Organisation"), REF, ref="organization"),
    FieldDef("status", _("Status"), CHOICE, tuple(TicketStatus.values), changeable=True),
    FieldDef("status_category", _("Status category"), CHOICE, tuple(StatusCategory.values)),
    FieldDef("priority", _("Priority"), CHOICE, tuple(TicketPriority.values), changeable=True,
             rank={str(k): v for k, v in PRIORITY_RANK.items()}),
    FieldDef("urgency", _("Urgency"), CHOICE, tuple(Level.values), changeable=True, rank=LEVEL_RANK),
    FieldDef("impact", _("Impact"), CHOICE, tuple(Level.values), changeable=True, rank=LEVEL_RANK),
    FieldDef("type", _("Type"), CHOICE, tuple(TicketType.values), changeable=True),
    FieldDef("channel", _("Channel"), CHOICE, tuple(Channel.values)),
    FieldDef("language", _("Language"), TEXT, changeable=True),
    FieldDef("team", _("Team"), REF, ref="team", changeable=True),
    FieldDef("assignee", _("Assignee"), REF, ref="user", changeable=True),
    FieldDef("category", _("Category"), REF, ref="category", changeable=True),
    FieldDef("tags", _("Tags"), TAGS, changeable=True),
    FieldDef("reopen_count", _("Times reopened"), NUMBER),
    FieldDef("actor_kind", _("Who caused the event"), CHOICE, tuple(ActorKind.values)),
]}

CUSTOM_PREFIX = "custom_fields."

OPS: dict[str, tuple[str, ...]] = {
    CHOICE: ("is", "is_not", "in", "not_in"),
    REF: ("is", "is_not", "in", "not_in", "is_set", "is_not_set"),
    TEXT: ("is", "is_not", "in", "not_in", "contains", "not_contains", "contains_any_words", "contains_all_words", "starts_with",
           "ends_with", "is_set", "is_not_set"),
    TAGS: ("includes_any", "includes_all", "excludes", "is_set", "is_not_set"),
    NUMBER: ("is", "is_not", "gt", "gte", "lt", "lte", "is_set", "is_not_set"),
}
RANK_OPS = ("at_least", "at_most")
CHANGE_OPS = ("changed", "not_changed", "changed_to", "changed_from")
TAG_CHANGE_OPS = ("added", "removed")
NO_VALUE_OPS = ("is_set", "is_not_set", "changed", "not_changed")
LIST_VALUE_OPS = ("in", "not_in", "includes_any", "includes_all", "excludes", "added", "removed")

OP_LABELS = {
    "is": _("is"), "is_not": _("is not"), "in": _("is one of"), "not_in": _("is none of"),
    "is_set": _("is set"), "is_not_set": _("is not set"), "contains": _("contains"),
    "not_contains": _("does not contain"), "contains_any_words": _("contains any of the words"),
    "contains_all_words": _("contains all of the words"), "starts_with": _("starts with"),
    "ends_with": _("ends with"), "includes_any": _("includes any of"), "includes_all": _("includes all of"),
    "excludes": _("includes none of"), "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
    "at_least": _("is at least"), "at_most": _("is at most"), "changed": _("changed"),
    "not_changed": _("did not change"), "changed_to": _("changed to"), "changed_from": _("changed from"),
    "added": _("were added"), "removed": _("were removed"),
}


def custom_field_def(name: str) -> FieldDef | None:
    """``custom_fields.<key>`` for an existing custom field (dropdowns list their choices)."""
    key = name[len(CUSTOM_PREFIX):]
    field = CustomField.objects.filter(key=key).first()
    if field is None:
        return None
    if field.kind == "number":
        return FieldDef(name, field.label, NUMBER, changeable=True)
    if field.kind == "dropdown":
        return FieldDef(name, field.label, CHOICE, tuple(str(c) for c in field.choices), changeable=True)
    if field.kind == "checkbox":
        return FieldDef(name, field.label, CHOICE, ("true", "false"), changeable=True)
    return FieldDef(name, field.label, TEXT, changeable=True)


def field_def(name: str) -> FieldDef | None:
    if isinstance(name, str) and name.startswith(CUSTOM_PREFIX):
        return custom_field_def(name)
    return FIELDS.get(name)


def ops_for(field: FieldDef, *, allow_changes: bool) -> tuple[str, ...]:
    ops = OPS[field.kind]
    if field.rank:
        ops += RANK_OPS
    if allow_changes and field.changeable:
        ops += CHANGE_OPS
        if field.kind == TAGS:
            ops += TAG_CHANGE_OPS
    return ops


def fold(text: str) -> str:
    """Case- and accent-insensitive form (“Não” matches “nao”)."""
    normalized = unicodedata.normalize("NFKD", str(text or ""))
    if normalized.isascii():  # no combining marks to drop (most subjects and bodies): no pass per character
        return normalized.casefold()
    return "".join(filterfalse(unicodedata.combining, normalized)).casefold()


def words(text: str) -> list[str]:
    import re

    return re.findall(r"[\w@.+-]+", fold(text))
