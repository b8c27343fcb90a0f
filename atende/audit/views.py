"""The audit log page (filters, pages of 50) and its CSV export: administrators only."""

import csv
import json

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from atende.accounts.decorators import admin_required
from atende.audit.forms import AuditFilterForm
from atende.audit.selectors import audit_entry_list_for_user, audit_target_types
from atende.core.exceptions import DomainError
from atende.core.pagination import keyset_page

CSV_COLUMNS = ["time", "action", "actor", "actor_kind", "person", "object_type", "object_id", "object", "ip",
               "browser", "changes", "details"]


def csv_row(entry) -> list[str]:
    return [entry.created_at.isoformat(), entry.action, entry.actor_label, entry.actor_kind, entry.subject_label,
            entry.target_type, entry.target_id, entry.target_label, entry.ip or "", entry.user_agent,
            json.dumps(entry.changes, ensure_ascii=False), json.dumps(entry.data, ensure_ascii=False)]


class _Echo:
    def write(self, value):
        return value


def _csv_safe(cell: str) -> str:
    """Cells that a spreadsheet would run as a formula start with a quote instead."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


@admin_required
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    entries = audit_entry_list_for_user(user=request.user, filters=form.to_filter())
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(csv_lines(entries), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="atende-audit-{stamp}.csv"'
        return response
    try:
        page = keyset_page(entries, order="-created_at", cursor=request.GET.get("cursor"), size=50)
    except DomainError:  # a damaged cursor: start again at the newest
        page = keyset_page(entries, order="-created_at", size=50)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(request, "audit/log.html", {"form": form, "page": page, "query": query.urlencode(),
                                              "target_types": audit_target_types()})


def csv_lines(entries):
    """The export, streamed: a header, then one line per entry, newest first (any number of rows)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for entry in entries.order_by("-created_at", "-id").iterator(chunk_size=500):
        yield writer.writerow([_csv_safe(cell) for cell in csv_row(entry)])
