"""Ticket list filters shared by the console (queues, saved views, search) and the REST API.

Framework-free on purpose: ``TicketFilters`` is a plain dataclass that round-trips through JSON
(``to_dict``/``from_dict``), ``apply_ticket_filters`` narrows any ticket QuerySet, and ``parse_search_query``
turns a search-box string with qualifiers (``status:open assignee:me tag:vip #123``) into free text plus filters.

Visibility is not decided here: callers start from ``tickets.selectors.ticket_list_for_user``.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import shlex
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from atende.accounts.models import Organization, Team, User
from atende.accounts.selectors import team_ids_for_user
from atende.core.exceptions import ValidationError
from atende.tickets.choices import Channel, TicketPriority, TicketStatus, TicketType
from atende.tickets.models import Category, TicketTag
from atende.tickets.states import OPEN_STATUSES, UNSOLVED_STATUSES

ME = "me"
NONE = "none"
MY_TEAMS = "mine"

# Status shorthands accepted wherever statuses are: the lifecycle categories of DESIGN.md.
STATUS_GROUPS: dict[str, list[str]] = {
    "unsolved": sorted(UNSOLVED_STATUSES),
    "active": sorted(OPEN_STATUSES),
    "paused": [TicketStatus.PENDING.value, TicketStatus.ON_HOLD.value],
    "resolved": [TicketStatus.SOLVED.value, TicketStatus.CLOSED.value],
}

_DATE_FIELDS = ("created_from", "created_to", "updated_from", "updated_to")


@dataclass
class TicketFilters:
    """Every attribute a ticket list can be narrowed by. Empty lists / ``None`` mean "any".

    Within one attribute, values are alternatives (status open OR pending); attributes combine with AND.
    ``tags`` must all be present; ``exclude_tags`` must all be absent. Date bounds are aware datetimes:
    ``*_from`` inclusive, ``*_to`` exclusive.
    """

    status: list[str] = field(default_factory=list)
    team: list[int | str] = field(default_factory=list)  # team ids, "none", "mine" (the user's teams)
    assignee: list[int | str] = field(default_factory=list)  # user ids, "me", "none"
    requester: list[int | str] = field(default_factory=list)  # user ids or email addresses
    organization: list[int | str] = field(default_factory=list)  # ids or names (case-insensitive)
    category: list[int] = field(default_factory=list)  # a category includes its subcategories
    tags: list[str] = field(default_factory=list)
    exclude_tags: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)
    created_from: datetime.datetime | None = None
    created_to: datetime.datetime | None = None
    updated_from: datetime.datetime | None = None
    updated_to: datetime.datetime | None = None
    created_within_days: int | None = None
    updated_within_days: int | None = None
    solved_within_days: int | None = None
    number: list[int] = field(default_factory=list)
    has_sla_due: bool | None = None
    sla_due_within_hours: int | None = None  # overdue, or due within this many hours
    spam: bool | None = False  # spam is hidden unless asked for (None = both)

    # -- serialisation (saved views store this as JSON; the API reads query parameters into it) --
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in _DATE_FIELDS:
            if data[name] is not None:
                data[name] = data[name].isoformat()
        defaults = TicketFilters()
        return {k: v for k, v in data.items() if v != getattr(defaults, k)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TicketFilters:
        """Validate and normalise (raises ``ValidationError`` naming the bad key)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValidationError(f"Unknown filters: {', '.join(sorted(unknown))}.", code="unknown_filter",
                                  details={"filters": sorted(unknown)})
        out = cls()
        out.status = _expand_statuses(_as_list(data.get("status")))
        out.team = [_id_or_keyword(v, "team", (NONE, MY_TEAMS)) for v in _as_list(data.get("team"))]
        out.assignee = [_id_or_keyword(v, "assignee", (ME, NONE)) for v in _as_list(data.get("assignee"))]
        out.requester = [_id_or_text(v) for v in _as_list(data.get("requester"))]
        out.organization = [_id_or_text(v) for v in _as_list(data.get("organization"))]
        out.category = [_int(v, "category") for v in _as_list(data.get("category"))]
        out.tags = _tags(data.get("tags"))
        out.exclude_tags = _tags(data.get("exclude_tags"))
        out.priority = _choices(data.get("priority"), TicketPriority, "priority")
        out.type = _choices(data.get("type"), TicketType, "type")
        out.channel = _choices(data.get("channel"), Channel, "channel")
        custom = data.get("custom_fields") or {}
        if not isinstance(custom, dict):
            raise ValidationError("custom_fields must be an object.", code="invalid_filter",
                                  details={"filter": "custom_fields"})
        out.custom_fields = {str(k): str(v) for k, v in custom.items() if str(k).strip()}
        for name in _DATE_FIELDS:
            setattr(out, name, _datetime(data.get(name), name, end=name.endswith("_to")))
        for name in ("created_within_days", "updated_within_days", "solved_within_days"):
            value = data.get(name)
            setattr(out, name, None if value in (None, "") else max(0, _int(value, name)))
        out.number = [_int(v, "number") for v in _as_list(data.get("number"))]
        out.has_sla_due = _bool(data.get("has_sla_due"))
        value = data.get("sla_due_within_hours")
        out.sla_due_within_hours = None if value in (None, "") else max(0, _int(value, "sla_due_within_hours"))
        out.spam = _bool(data["spam"]) if "spam" in data else False
        return out

    def is_empty(self) -> bool:
        return not self.to_dict()


# -- applying ---------------------------------------------------------------------------------------------

def apply_ticket_filters(qs: QuerySet, filters: TicketFilters, *, user, now: datetime.datetime | None = None
                         ) -> QuerySet:
    """Narrow ``qs`` (already restricted to what ``user`` may see) by ``filters``. Adds no queries of its own
    except one to expand category subtrees when categories are given."""
    now = now or timezone.now()
    f = filters
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.team:
        qs = qs.filter(_any_of(f.team, "team_id", user=user))
    if f.assignee:
        qs = qs.filter(_any_of(f.assignee, "assignee_id", user=user))
    if f.requester:
        ids = [v for v in f.requester if isinstance(v, int)]
        emails = [v.lower() for v in f.requester if isinstance(v, str)]
        cond = Q(requester_id__in=ids) if ids else Q(pk__in=[])
        if emails:
            cond |= Q(requester__email__in=emails)
        qs = qs.filter(cond)
    if f.organization:
        ids = [v for v in f.organization if isinstance(v, int)]
        cond = Q(organization_id__in=ids) if ids else Q(pk__in=[])
        for name in (v for v in f.organization if isinstance(v, str)):
            cond |= Q(organization__name__iexact=name)
        qs = qs.filter(cond)
    if f.category:
        qs = qs.filter(category_id__in=category_subtree_ids(f.category))
    for tag in f.tags:
        # An uncorrelated ``id IN (tickets with the tag)`` lets SQLite start from ``ticket_tag_by_tag`` instead of
        # probing every ticket (a rare tag: 25 ms -> 0.5 ms to count at 100,000 tickets); PostgreSQL plans
        # both forms as the same semi-join. Exclusions stay ``NOT EXISTS``: PostgreSQL's anti-join beats NOT IN.
        qs = qs.filter(pk__in=TicketTag.objects.filter(tag__name=tag).values("ticket_id"))
    if f.exclude_tags:
        qs = qs.exclude(Exists(TicketTag.objects.filter(ticket_id=OuterRef("pk"), tag__name__in=f.exclude_tags)))
    if f.priority:
        qs = qs.filter(priority__in=f.priority)
    if f.type:
        qs = qs.filter(type__in=f.type)
    if f.channel:
        qs = qs.filter(channel__in=f.channel)
    for key, value in f.custom_fields.items():
        qs = qs.filter(_custom_field_q(key, value))
    if f.created_from:
        qs = qs.filter(created_at__gte=f.created_from)
    if f.created_to:
        qs = qs.filter(created_at__lt=f.created_to)
    if f.updated_from:
        qs = qs.filter(updated_at__gte=f.updated_from)
    if f.updated_to:
        qs = qs.filter(updated_at__lt=f.updated_to)
    if f.created_within_days is not None:
        qs = qs.filter(created_at__gte=now - datetime.timedelta(days=f.created_within_days))
    if f.updated_within_days is not None:
        qs = qs.filter(updated_at__gte=now - datetime.timedelta(days=f.updated_within_days))
    if f.solved_within_days is not None:
        qs = qs.filter(solved_at__gte=now - datetime.timedelta(days=f.solved_within_days))
    if f.number:
        qs = qs.filter(number__in=f.number)
    if f.has_sla_due is not None:
        qs = qs.filter(sla_due_at__isnull=not f.has_sla_due)
    if f.sla_due_within_hours is not None:
        qs = qs.filter(sla_due_at__lte=now + datetime.timedelta(hours=f.sla_due_within_hours))
    if f.spam is not None:
        qs = qs.filter(is_spam=f.spam)
    return qs


# Sorts with an index led by status (``ticket_status_*``), and those also led by team or assignee then status
# (``ticket_team_status*``, ``ticket_assignee_status*``): see ``Ticket.Meta.indexes``.
STATUS_SORT_FIELDS = frozenset({"updated_at", "created_at", "solved_at", "sla_due_at", "id"})
TEAM_ASSIGNEE_SORT_FIELDS = frozenset({"updated_at", "created_at"})
MAX_BRANCHES = 16


def ticket_filter_branches(filters: TicketFilters, *, user, order: str) -> tuple[list[Q], TicketFilters]:
    """Split ``filters`` for ``core.pagination.keyset_page(branches=...)``: disjoint equality conditions on status
    and on assignee or team (one index seek each instead of a sort of every match), and the filters left for the
    queryset they split. The split attributes are taken out of those: PostgreSQL multiplies the selectivity of a
    condition it sees twice (``assignee IS NULL`` in the filter and in the part), underestimated a part 80 times
    and sorted 80,000 rows instead of walking its index. No parts (and ``filters`` unchanged) when one query is as
    good: a single value each, or a sort that no such index serves."""
    field = order.lstrip("-")
    if field not in STATUS_SORT_FIELDS or not filters.status:
        return [], filters
    dimensions: list[list[Q]] = [[Q(status=s) for s in sorted(set(filters.status))]]
    split = {"status": []}
    if field in TEAM_ASSIGNEE_SORT_FIELDS:
        # The indexes lead with one of them. Assignee first: it has fewer values (often one: "me" or "unassigned"),
        # and each extra part is one more query; the other filter is then checked on the rows the index walk reads.
        for name, column in (("assignee", "assignee_id"), ("team", "team_id")):
            parts = _equality_parts(getattr(filters, name), column, user=user)
            if parts and len(parts) * len(dimensions[0]) <= MAX_BRANCHES:
                dimensions.append(parts)
                split[name] = []
                break
    if _product(dimensions) <= 1:
        return [], filters
    branches = [Q()]
    for parts in dimensions:
        branches = [b & p for b in branches for p in parts]
    return branches, dataclasses.replace(filters, **split)


def _product(dimensions: list[list[Q]]) -> int:
    n = 1
    for parts in dimensions:
        n *= len(parts)
    return n


def _equality_parts(values: list[int | str], column: str, *, user) -> list[Q]:
    """``team``/``assignee`` filter values as one ``column = id`` (or ``IS NULL``) each; [] when not splittable."""
    if not values:
        return []
    ids: set[int] = {v for v in values if isinstance(v, int)}
    authenticated = user is not None and user.is_authenticated
    if ME in values and authenticated:
        ids.add(user.pk)
    if MY_TEAMS in values and authenticated:
        ids.update(team_ids_for_user(user))
    parts = [Q(**{column: pk}) for pk in sorted(ids)]
    if NONE in values:
        parts.append(Q(**{f"{column}__isnull": True}))
    return parts


def category_subtree_ids(ids: list[int]) -> list[int]:
    """The categories and all their descendants (the tree is small: one query, walked in Python)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in Category.objects.values_list("id", "parent_id"):
        children.setdefault(parent, []).append(pk)
    out, stack = set(), list(ids)
    while stack:
        pk = stack.pop()
        if pk not in out:
            out.add(pk)
            stack.extend(children.get(pk, []))
    return sorted(out)


def _any_of(values: list[int | str], column: str, *, user) -> Q:
    ids = [v for v in values if isinstance(v, int)]
    cond = Q(**{f"{column}__in": ids}) if ids else Q(pk__in=[])
    if NONE in values:
        cond |= Q(**{f"{column}__isnull": True})
    if ME in values and user is not None and user.is_authenticated:
        cond |= Q(**{column: user.pk})
    if MY_TEAMS in values and user is not None and user.is_authenticated:
        cond |= Q(**{f"{column}__in": team_ids_for_user(user)})
    return cond


def _custom_field_q(key: str, value: str) -> Q:
    """JSON values may be stored as strings, numbers or booleans; match the text the user typed against each."""
    lookup = f"custom_fields__{key}"
    cond = Q(**{lookup: value})
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "false", "no"):
        cond |= Q(**{lookup: lowered in ("true", "yes")})
    else:
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            cond |= Q(**{lookup: int(number) if number.is_integer() else number})
    return cond


# -- parsing the search box ---------------------------------------------------------------------------------

_QUALIFIER = re.compile(r"^(?P<neg>-?)(?P<key>[a-z_.]+[a-z0-9_]*)(?P<op>:>=|:<=|:>|:<|>=|<=|>|<|:|=)(?P<value>.*)$",
                        re.IGNORECASE)
_NUMBER = re.compile(r"^#(\d{1,18})$")
_KEYS = {
    "status": "status", "is": "is", "team": "team", "group": "team", "assignee": "assignee", "assigned": "assignee",
    "requester": "requester", "from": "requester", "org": "organization", "organization": "organization",
    "organisation": "organization", "category": "category", "tag": "tags", "tags": "tags", "priority": "priority",
    "type": "type", "channel": "channel", "via": "channel", "created": "created", "updated": "updated",
}


def parse_search_query(q: str, *, user) -> tuple[str, TicketFilters]:
    """Split ``q`` into free text and filters. Unknown ``key:value`` words stay in the text.

    Qualifiers: ``status:open,pending`` (also ``unsolved``/``resolved``…), ``-status:closed``, ``is:unassigned``,
    ``is:spam``, ``team:Billing`` (name, slug, ``none`` or ``mine``), ``assignee:me`` / ``none`` / an email,
    ``requester:ana@x.com``, ``org:acme``, ``category:Billing``, ``tag:vip`` / ``-tag:vip``, ``priority:high``,
    ``type:incident``, ``channel:email``, ``cf.<key>:value``, ``created>2026-01-01`` (``>= < <= :`` too; also
    ``updated``), and ``#123`` for a ticket number. Values with spaces go in quotes: ``org:"Acme Corp"``.
    """
    try:
        words = shlex.split(q or "", posix=True)
    except ValueError:  # an unbalanced quote: read it as plain words
        words = (q or "").replace('"', " ").split()
    data: dict[str, Any] = {}
    text: list[str] = []
    excluded_status: set[str] = set()
    for word in words:
        number = _NUMBER.match(word)
        if number:
            data.setdefault("number", []).append(int(number.group(1)))
            continue
        match = _QUALIFIER.match(word)
        key = _KEYS.get(match.group("key").lower()) if match else None
        custom = match and match.group("key").lower().startswith(("cf.", "field.")) and match.group("op") in (":", "=")
        if not match or not (key or custom) or not match.group("value"):
            text.append(f'"{word}"' if " " in word else word)
            continue
        neg, op, value = match.group("neg") == "-", match.group("op").lstrip(":"), match.group("value")
        if custom:
            data.setdefault("custom_fields", {})[match.group("key").split(".", 1)[1]] = value
            continue
        values = [v for v in value.split(",") if v]
        if key in ("created", "updated"):
            _date_qualifier(data, key, op or ":", value)
        elif key == "status":
            statuses = _expand_statuses(values)
            if neg:
                excluded_status.update(statuses)
            else:
                data.setdefault("status", []).extend(statuses)
        elif key == "is":
            for v in values:
                _is_qualifier(data, v.lower())
        elif key == "tags":
            data.setdefault("exclude_tags" if neg else "tags", []).extend(values)
        elif key == "team":
            data.setdefault("team", []).extend(_resolve_teams(values, Team))
        elif key == "assignee":
            data.setdefault("assignee", []).extend(_resolve_users(values, User, for_assignee=True, user=user))
        elif key == "requester":
            data.setdefault("requester", []).extend(_resolve_users(values, User, for_assignee=False, user=user))
        elif key == "organization":
            data.setdefault("organization", []).extend(_resolve_orgs(values, Organization))
        elif key == "category":
            data.setdefault("category", []).extend(_resolve_categories(values))
        else:  # priority, type, channel
            data.setdefault(key, []).extend(v.lower() for v in values)
    if excluded_status:
        current = data.get("status") or [s.value for s in TicketStatus]
        data["status"] = [s for s in current if s not in excluded_status]
    filters = TicketFilters.from_dict(data)
    return " ".join(text).strip(), filters


def _is_qualifier(data: dict[str, Any], value: str) -> None:
    if value == "unassigned":
        data.setdefault("assignee", []).append(NONE)
    elif value == "spam":
        data["spam"] = True
    elif value in STATUS_GROUPS or value in TicketStatus.values:
        data.setdefault("status", []).append(value)
    elif value in ("sla", "breaching"):
        data["has_sla_due"] = True
    else:
        raise ValidationError(f"Unknown qualifier is:{value}.", code="invalid_filter", details={"filter": "is"})


def _date_qualifier(data: dict[str, Any], key: str, op: str, value: str) -> None:
    day = _date(value, key)
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    next_day = start + datetime.timedelta(days=1)
    if op in (":", "="):
        data[f"{key}_from"], data[f"{key}_to"] = start, next_day
    elif op == ">":
        data[f"{key}_from"] = next_day
    elif op == ">=":
        data[f"{key}_from"] = start
    elif op == "<":
        data[f"{key}_to"] = start
    elif op == "<=":
        data[f"{key}_to"] = next_day


def _resolve_teams(values: list[str], Team) -> list[int | str]:
    out: list[int | str] = []
    for v in values:
        low = v.lower()
        if low in (NONE, MY_TEAMS):
            out.append(low)
            continue
        team = Team.objects.filter(Q(slug__iexact=v) | Q(name__iexact=v)).values_list("id", flat=True).first()
        out.append(team if team is not None else -1)  # an unknown team matches nothing, it is not ignored
    return out


def _resolve_users(values: list[str], User, *, for_assignee: bool, user) -> list[int | str]:
    """``me``, ``none`` (assignee only), an email, or a name/login → what ``TicketFilters`` stores.
    Unknown people become -1 so the filter matches nothing instead of being silently dropped."""
    out: list[int | str] = []
    for v in values:
        low = v.lower()
        if low == ME:
            out.append(ME if for_assignee else (user.pk if user is not None else -1))
        elif low == NONE and for_assignee:
            out.append(NONE)
        elif v.isdigit():
            out.append(int(v))
        elif "@" in v and not for_assignee:
            out.append(low)
        else:
            found = User.objects.filter(Q(email__iexact=v) | Q(name__iexact=v) | Q(email__istartswith=f"{low}@")
                                        ).values_list("id", flat=True).first()
            out.append(found if found is not None else -1)
    return out


def _resolve_orgs(values: list[str], Organization) -> list[int | str]:
    out: list[int | str] = []
    for v in values:
        if v.isdigit():
            out.append(int(v))
            continue
        org = Organization.objects.filter(name__iexact=v).values_list("id", flat=True).first()
        if org is None:  # "org:acme" finds "Acme Corp" when only one organisation starts with it
            matches = list(Organization.objects.filter(name__istartswith=v).values_list("id", flat=True)[:2])
            org = matches[0] if len(matches) == 1 else None
        out.append(org if org is not None else -1)
    return out


def _resolve_categories(values: list[str]) -> list[int]:
    out = []
    for v in values:
        found = Category.objects.filter(name__iexact=v).values_list("id", flat=True)
        out.extend(found or [-1])
    return out


# -- small validators -----------------------------------------------------------------------------------------

def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set)):
        return [v for v in value if v not in (None, "")]
    if isinstance(value, str) and "," in value:
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def _expand_statuses(values: list[Any]) -> list[str]:
    out: list[str] = []
    for v in values:
        v = str(v).lower()
        group = STATUS_GROUPS.get(v)
        if group:
            out.extend(group)
        elif v in TicketStatus.values:
            out.append(v)
        else:
            raise ValidationError(f"Unknown status {v!r}.", code="invalid_filter", details={"filter": "status"})
    return list(dict.fromkeys(out))


def _choices(value: Any, choices, name: str) -> list[str]:
    out = [str(v).lower() for v in _as_list(value)]
    bad = [v for v in out if v not in choices.values]
    if bad:
        raise ValidationError(f"Unknown {name} {bad[0]!r}.", code="invalid_filter", details={"filter": name})
    return list(dict.fromkeys(out))


def _tags(value: Any) -> list[str]:
    return list(dict.fromkeys(str(v).strip().lower() for v in _as_list(value) if str(v).strip()))


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number.", code="invalid_filter", details={"filter": name})


def _id_or_keyword(value: Any, name: str, keywords: tuple[str, ...]) -> int | str:
    if isinstance(value, str) and value.lower() in keywords:
        return value.lower()
    return _int(value, name)


def _id_or_text(value: Any) -> int | str:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return str(value).strip().lower()


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes", "on")


def _date(value: str, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{name} needs a date like 2026-01-31.", code="invalid_filter", details={"filter": name})


def _datetime(value: Any, name: str, *, end: bool = False) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value + datetime.timedelta(days=1 if end else 0), datetime.time.min)
        return timezone.make_aware(moment)
    try:
        parsed = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"{name} needs a date like 2026-01-31.", code="invalid_filter", details={"filter": name})
    if len(str(value)) == 10 and end:  # a bare date as an upper bound includes that whole day
        parsed += datetime.timedelta(days=1)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
