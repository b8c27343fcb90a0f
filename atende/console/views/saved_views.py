"""Creating, editing and deleting saved views."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from atende.console.forms import SavedViewForm
from atende.console.selectors import access_saved_view
from atende.console.services import saved_view_create, saved_view_delete, saved_view_update
from atende.console.views._common import console_view
from atende.core.exceptions import DomainError, NotFound
from atende.tickets.filters import parse_search_query


@require_http_methods(["GET", "POST"])
@console_view(agents_only=True)
def saved_view_new(request):
    """A new view; ``?q=`` pre-fills the filters from search qualifiers ("save this search as a view")."""
    if request.method == "POST":
        form = SavedViewForm(request.POST, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                view = saved_view_create(user=request.user, name=d["name"], filters=form.filters,
                                         team=d["share_with"], columns=d["columns"], sort=d["sort"])
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
                return redirect("console:saved_view", view_id=view.pk)
    else:
        initial = {}
        if request.GET.get("q"):
            try:
                text, filters = parse_search_query(request.GET["q"], user=request.user)
                initial = SavedViewForm.initial_for(filters=filters)
            except DomainError as exc:
                messages.error(request, exc.message)
        form = SavedViewForm(initial=initial, user=request.user)
    return render(request, "console/saved_view_form.html", {"form": form, "view": None})


@require_http_methods(["GET", "POST"])
@console_view(agents_only=True)
def saved_view_edit(request, view_id: int):
    try:
        view = access_saved_view(user=request.user, view_id=view_id, for_edit=True)
    except NotFound:
        raise Http404
    if request.method == "POST":
        form = SavedViewForm(request.POST, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                saved_view_update(view=view, user=request.user, name=d["name"], filters=form.filters,
                                  team=d["share_with"], columns=d["columns"], sort=d["sort"])
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("View “%(name)s” updated.") % {"name": d["name"]})
                return redirect("console:saved_view", view_id=view.pk)
    else:
        form = SavedViewForm(initial=SavedViewForm.initial_for(view=view), user=request.user)
    return render(request, "console/saved_view_form.html", {"form": form, "view": view})


@require_POST
@console_view(agents_only=True)
def saved_view_remove(request, view_id: int):
    try:
        view = access_saved_view(user=request.user, view_id=view_id, for_edit=True)
    except NotFound:
        raise Http404
    name = view.name
    saved_view_delete(view=view, user=request.user)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": name})
    return redirect("console:queues")
