"""The dashboard's figures (docs/reports.md), built from ``Reads``. Each public function can be called on its own;
``report_dashboard`` shares one ``Reads`` between them so no query runs twice."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q

from atende.accounts.models import Team, User
from atende.accounts.selectors import team_ids_for_user
from atende.kb.selectors import deflection_count
from atende.reports.expressions import SLA_METRICS, Buckets, histogram_median
from atende.reports.selectors.reads import CREATED, SOLVED, Reads, medians_supported
from atende.reports.selectors.scope import ReportScope, avg_hours, bucket_days, bucket_key, percent
from atende.surveys.choices import Rating
from atende.surveys.models import SatisfactionSurvey
from atende.surveys.selectors import satisfaction_summary
from atende.tickets.choices import Channel, TicketPriority, TicketStatus
from atende.tickets.models import Category, Tag
from atende.tickets.selectors import ticket_visibility_filter
from atende.tickets.states import UNSOLVED_STATUSES

TOP_N = 10
BACKLOG_STATUS_ORDER = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD)


def _reads(user: User, scope: ReportScope, reads: Reads | None, source: str = "auto") -> Reads:
    return reads if reads is not None else Reads(user=user, scope=scope, source=source)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _median(counts: list[int] | None) -> float | None:
    return _hours(histogram_median(counts)) if counts is not None and medians_supported() else None


def _sum_bins(*histograms: list[int]) -> list[int]:
    return [sum(values) for values in zip(*histograms, strict=True)] if histograms else []


def _totals(rows, keys) -> dict:
    total = dict.fromkeys(keys, 0)
    for row in rows:
        for key in keys:
            total[key] += row[key]
    return total


def report_summary(*, user: User, scope: ReportScope, reads: Reads | None = None, source: str = "auto") -> dict:
    """Headline figures for the period."""
    reads = _reads(user, scope, reads, source)
    created = _totals(reads.rows.values(), CREATED)
    solved = _totals(reads.rows.values(), SOLVED)
    medians = medians_supported()
    histograms = reads.histograms.values() if medians else []
    return {
        "created": created["created"],
        "solved": solved["solved"],
        "responded": created["responded"],
        "reopened": created["reopened"],
        "first_response_hours": avg_hours(created["first_response_seconds"], created["responded"]),
        "resolution_hours": avg_hours(solved["resolution_seconds"], solved["solved"]),
        "first_response_median_hours": _median(_sum_bins(*(h["first_response"] for h in histograms)))
        if medians else None,
        "resolution_median_hours": _median(_sum_bins(*(h["resolution"] for h in histograms))) if medians else None,
        **_sla_shares(created),
        "sla_breaches": sum(reads.breaches.values()),
    }


def _sla_shares(measures: dict) -> dict:
    """``<metric>_met``, ``<metric>_decided`` and ``<metric>_pct`` (met of decided, None when nothing is decided)
    for each SLA target."""
    shares = {}
    for metric in SLA_METRICS:
        met, decided = measures[f"{metric}_met"], measures[f"{metric}_decided"]
        shares |= {f"{metric}_met": met, f"{metric}_decided": decided, f"{metric}_pct": percent(met, decided)}
    return shares


def report_timeseries(*, user: User, scope: ReportScope, bucket: str | None = None, reads: Reads | None = None,
                      source: str = "auto") -> list[dict]:
    """One row per day (or week) of the period: created, solved, average first response and resolution hours,
    each SLA target's met/decided/share (tickets created that day), SLA breach events."""
    bucket = bucket or scope.bucket
    if reads is None or reads.bucket != bucket:
        reads = Reads(user=user, scope=scope, bucket=bucket, source=source if reads is None else reads.source)
    created: dict = defaultdict(lambda: dict.fromkeys(CREATED, 0))
    solved: dict = defaultdict(lambda: dict.fromkeys(SOLVED, 0))
    for (key, _team, _channel), row in reads.rows.items():
        day = bucket_key(key)
        for name in CREATED:
            created[day][name] += row[name]
        for name in SOLVED:
            solved[day][name] += row[name]
    breaches: dict = defaultdict(int)
    for key, n in reads.breaches.items():
        breaches[bucket_key(key)] += n
    days = sorted({*bucket_days(scope, bucket), *created, *solved, *breaches})
    rows = []
    for day in days:
        c, s = created.get(day, dict.fromkeys(CREATED, 0)), solved.get(day, dict.fromkeys(SOLVED, 0))
        rows.append({"day": day, "created": c["created"], "solved": s["solved"],
                     "first_response_hours": avg_hours(c["first_response_seconds"], c["responded"]),
                     "resolution_hours": avg_hours(s["resolution_seconds"], s["solved"]),
                     **_sla_shares(c), "sla_breaches": breaches.get(day, 0)})
    return rows


def _team_names(ids) -> dict[int, str]:
    return dict(Team.objects.filter(pk__in=[i for i in ids if i is not None]).values_list("pk", "name"))


def report_by_team(*, user: User, scope: ReportScope, reads: Reads | None = None, source: str = "auto") -> list[dict]:
    """Per team: tickets created and average first response (tickets created in the period), solved and average
    resolution (tickets solved in the period). A team deleted since reads as "no team", as its tickets do."""
    reads = _reads(user, scope, reads, source)
    created: dict = defaultdict(lambda: dict.fromkeys(CREATED, 0))
    solved: dict = defaultdict(lambda: dict.fromkeys(SOLVED, 0))
    histograms = reads.histograms if medians_supported() else {}
    names = _team_names({k[1] for k in reads.rows} | set(histograms))

    def team(team_id):
        return team_id if team_id in names else None

    for (_bucket, team_id, _channel), row in reads.rows.items():
        for name in CREATED:
            created[team(team_id)][name] += row[name]
        for name in SOLVED:
            solved[team(team_id)][name] += row[name]
    merged: dict = defaultdict(lambda: {"first_response": [], "resolution": []})
    for team_id, hist in histograms.items():
        for name in ("first_response", "resolution"):
            merged[team(team_id)][name].append(hist[name])
    rows = []
    for team_id in {*created, *solved}:
        c, s = created.get(team_id, dict.fromkeys(CREATED, 0)), solved.get(team_id, dict.fromkeys(SOLVED, 0))
        if not c["created"] and not s["solved"]:
            continue
        hist = merged.get(team_id)
        rows.append({
            "team_id": team_id, "team": names.get(team_id), "created": c["created"], "solved": s["solved"],
            "first_response_hours": avg_hours(c["first_response_seconds"], c["responded"]),
            "first_response_median_hours": _median(_sum_bins(*hist["first_response"])) if hist else None,
            "resolution_hours": avg_hours(s["resolution_seconds"], s["solved"]),
            "resolution_median_hours": _median(_sum_bins(*hist["resolution"])) if hist else None,
        })
    return sorted(rows, key=lambda r: (r["team"] is None, r["team"] or ""))


def _top(counts: dict, names: dict, *, keep_missing: bool) -> list[tuple]:
    """(key, label, n) of the largest counts, ties by label; ids no longer in ``names`` become "none" (a deleted
    category, as its tickets read) or are dropped (a deleted tag: its ticket links went with it)."""
    merged: dict = defaultdict(int)
    for key, n in counts.items():
        if n and (key in names or keep_missing):
            merged[key if key in names else None] += n
    ordered = sorted(merged.items(), key=lambda item: (-item[1], names.get(item[0]) is not None,
                                                       names.get(item[0]) or ""))
    return [(key, names.get(key), n) for key, n in ordered[:TOP_N]]


def report_breakdowns(*, user: User, scope: ReportScope, reads: Reads | None = None, source: str = "auto") -> dict:
    """Tickets created in the period by channel, by category (top) and by tag (top)."""
    reads = _reads(user, scope, reads, source)
    channels: dict = defaultdict(int)
    for (_bucket, _team, channel), row in reads.rows.items():
        channels[channel] += row["created"]
    channel_labels = dict(Channel.choices)
    by_channel = [{"key": key, "label": channel_labels.get(key, key), "n": n}
                  for key, n in sorted(channels.items(), key=lambda item: (-item[1], item[0])) if n]
    categories = reads.by_category
    category_names = dict(Category.objects.filter(pk__in=[k for k in categories if k is not None])
                          .values_list("pk", "name"))
    by_category = [{"key": key, "label": label, "n": n}
                   for key, label, n in _top(categories, category_names, keep_missing=True)]
    tags = reads.by_tag
    tag_names = dict(Tag.objects.filter(pk__in=list(tags)).values_list("pk", "name"))
    by_tag = [{"key": label, "label": label, "n": n} for _key, label, n in _top(tags, tag_names, keep_missing=False)]
    return {"by_channel": by_channel, "by_category": by_category, "by_tag": by_tag}


def report_backlog(*, user: User, scope: ReportScope, reads: Reads | None = None, source: str = "auto") -> dict:
    """Unsolved tickets right now (not bound to the period), by status and by priority."""
    reads = _reads(user, scope, reads, source)
    by_status = {status: 0 for status in BACKLOG_STATUS_ORDER if status in UNSOLVED_STATUSES}
    by_priority = {priority: 0 for priority in TicketPriority.values}
    total = 0
    for (kind, key), n in reads.backlog.items():
        if kind == "status":
            by_status[key] = by_status.get(key, 0) + n
            total += n
        else:
            by_priority[key] = by_priority.get(key, 0) + n
    labels_status = dict(TicketStatus.choices)
    labels_priority = dict(TicketPriority.choices)
    return {
        "total": total,
        "by_status": [{"key": k, "label": labels_status.get(k, k), "n": n} for k, n in by_status.items()],
        "by_priority": [{"key": k, "label": labels_priority.get(k, k), "n": n}
                        for k, n in reversed(list(by_priority.items()))],
    }


def _scoped_team_ids(user: User, scope: ReportScope) -> list[int] | None:
    """Which teams' surveys count: the chosen team, the user's teams when restricted, or ``None`` for all."""
    if scope.team_id is not None:
        return [scope.team_id]
    if ticket_visibility_filter(user) is None:
        return None
    return team_ids_for_user(user)


def _surveys(user: User, scope: ReportScope):
    """Surveys sent in the period that the report covers: the chosen team (or a restricted user's teams) and
    agent. Surveys carry no channel, so the channel filter does not apply to them."""
    surveys = SatisfactionSurvey.objects.filter(created_at__gte=scope.since, created_at__lt=scope.until)
    team_ids = _scoped_team_ids(user, scope)
    if team_ids is not None:
        surveys = surveys.filter(team_id__in=team_ids)
    if scope.assignee_id is not None:
        surveys = surveys.filter(assignee_id=scope.assignee_id)
    return surveys


def report_satisfaction(*, user: User, scope: ReportScope) -> dict:
    """Satisfaction surveys sent in the period (``surveys.selectors.satisfaction_summary``), summed over the teams
    a restricted user may see, for the chosen agent if any."""
    team_ids = _scoped_team_ids(user, scope)
    if team_ids is None:
        return satisfaction_summary(since=scope.since, until=scope.until, assignee_id=scope.assignee_id)
    total = {"asked": 0, "good": 0, "bad": 0, "answered": 0}
    for team_id in team_ids:
        part = satisfaction_summary(since=scope.since, until=scope.until, team_id=team_id,
                                    assignee_id=scope.assignee_id)
        for key in total:
            total[key] += part[key]
    return {**total, "score": percent(total["good"], total["answered"]),
            "response_rate": percent(total["answered"], total["asked"])}


def report_satisfaction_series(*, user: User, scope: ReportScope, bucket: str | None = None) -> list[dict]:
    """Per day (or week) of the period: good and bad ratings of the surveys sent then, and the score."""
    bucket = bucket or scope.bucket
    buckets = Buckets(bucket=bucket, since=scope.since, until=scope.until)
    counts = {bucket_key(row["day"]): row for row in _surveys(user, scope).annotate(day=buckets.of("created_at"))
              .values("day").annotate(good=Count("id", filter=Q(rating=Rating.GOOD)),
                                      bad=Count("id", filter=Q(rating=Rating.BAD))).order_by()}
    rows = []
    for day in sorted({*bucket_days(scope, bucket), *counts}):
        good, bad = counts.get(day, {}).get("good", 0), counts.get(day, {}).get("bad", 0)
        rows.append({"day": day, "good": good, "bad": bad, "score": percent(good, good + bad)})
    return rows


def report_deflections(*, scope: ReportScope) -> int:
    """Requests the knowledge base answered before a ticket was opened (not tied to a team or a channel)."""
    return deflection_count(since=scope.since, until=scope.until)


def report_by_agent(*, user: User, scope: ReportScope, limit: int = 50, reads: Reads | None = None,
                    source: str = "auto") -> list[dict]:
    """Per assignee: tickets solved in the period, average first response of their tickets created in the period,
    and satisfaction (good/bad) of surveys sent in the period. Up to ``limit`` agents, the most solved first."""
    reads = _reads(user, scope, reads, source)
    agents = {pk: row for pk, row in reads.by_agent.items() if row["solved"] or row["responded"]}
    names = {pk: name or email for pk, name, email in User.objects.filter(pk__in=list(agents))
             .values_list("pk", "name", "email").order_by()}
    rows = sorted(((pk, names[pk], agents[pk]) for pk in names), key=lambda r: (-r[2]["solved"], r[1].lower()))[:limit]
    surveys = _surveys(user, scope).filter(assignee_id__in=[pk for pk, _, _ in rows])
    ratings = {item["assignee_id"]: item for item in surveys.values("assignee_id").annotate(
        good=Count("id", filter=Q(rating=Rating.GOOD)), bad=Count("id", filter=Q(rating=Rating.BAD))).order_by()}
    result = []
    for pk, name, row in rows:
        rating = ratings.get(pk, {"good": 0, "bad": 0})
        result.append({
            "agent_id": pk, "agent": name, "solved": row["solved"],
            "first_response_hours": avg_hours(row["first_response_seconds"], row["responded"]),
            "first_response_median_hours": _median(row["bins"]) if row["responded"] else None,
            "good": rating["good"], "bad": rating["bad"],
            "score": percent(rating["good"], rating["good"] + rating["bad"]),
        })
    return result


def report_dashboard(*, user: User, scope: ReportScope, source: str = "auto") -> dict:
    """Everything the dashboard shows, in a fixed number of queries whatever the number of tickets."""
    reads = Reads(user=user, scope=scope, source=source)
    return {
        "summary": report_summary(user=user, scope=scope, reads=reads),
        "timeseries": report_timeseries(user=user, scope=scope, reads=reads),
        "by_team": report_by_team(user=user, scope=scope, reads=reads),
        "breakdowns": report_breakdowns(user=user, scope=scope, reads=reads),
        "backlog": report_backlog(user=user, scope=scope, reads=reads),
        "satisfaction": report_satisfaction(user=user, scope=scope),
        "satisfaction_series": report_satisfaction_series(user=user, scope=scope),
        "deflections": report_deflections(scope=scope),
        "by_agent": report_by_agent(user=user, scope=scope, reads=reads),
        "medians": medians_supported(),
    }
