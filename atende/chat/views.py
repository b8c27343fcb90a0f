"""Chat's HTTP side: the widget script and its config (called from other sites, CORS for allowed origins only),
the demo page, the agents' chat workspace and the admin's widget pages."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atende.accounts.decorators import admin_required, agent_required
from atende.accounts.selectors import agent_list, team_list
from atende.automation.selectors import canned_reply_list_for_user
from atende.chat.choices import WidgetLanguage
from atende.chat.forms import WidgetForm
from atende.chat.selectors import (
    access_chat_for_agent,
    access_widget_for_admin,
    agents_online_count,
    attachment_for_visitor,
    session_for_visitor,
    widget_for_demo,
    widget_get_active,
    widget_list_for_admin,
)
from atende.chat.services import chat_agent_reply, chat_visitor_attach, widget_save
from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.core.throttle import client_ip
from atende.tickets.views import attachment_response

STATIC = Path(__file__).resolve().parent / "static" / "chat"


@cache
def _asset(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _asset_response(name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(_asset(name) if not settings.DEBUG else (STATIC / name).read_bytes(),
                            content_type=content_type)
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"  # the same file for every site; it holds no secret
    return response


@require_GET
def widget_script(request):
    return _asset_response("widget.js", "text/javascript; charset=utf-8")


@require_GET
def widget_stylesheet(request):
    return _asset_response("widget.css", "text/css; charset=utf-8")


@require_GET
def widget_config(request, key: str):
    """The widget's settings, for pages on its allowed origins (and the desk's own demo page)."""
    origin = request.headers.get("Origin", "")
    try:
        widget = widget_get_active(key=key)
    except NotFound:
        return JsonResponse({"error": {"code": "not_found", "message": "Chat widget not found."}}, status=404)
    if origin and not widget.allows_origin(origin, own_host=request.get_host()):
        return JsonResponse({"error": {"code": "origin_not_allowed",
                                       "message": "This site may not use this chat widget."}}, status=403)
    response = JsonResponse({
        "key": widget.key, "title": widget.name, "primary_color": widget.primary_color,
        "text_color": widget.text_color, "position": widget.position, "greeting": widget.greeting,
        "language": widget.language if widget.language in WidgetLanguage.values else "auto",
        "ask_name": widget.ask_name, "ask_email": widget.ask_email, "email_required": widget.email_required,
        "bot": widget.bot_enabled, "offline_mode": widget.offline_mode,
        "online": agents_online_count(team_id=widget.team_id) > 0,
        "file_max_bytes": settings.ATTACHMENT_MAX_BYTES,
    })
    if origin:  # absent on the desk's own pages (same-origin requests carry none)
        response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response


def _error(code: str, message: str, status: int, details: dict | None = None, origin: str = "") -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message, "details": details or {}}}, status=status)
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


@csrf_exempt  # called from other sites without cookies: the visitor token and the origin allow-list are the checks
@require_POST
def visitor_file_upload(request, key: str):
    """The widget sends one file (multipart: ``token``, ``file``, ``cid``); it becomes a message of the visitor's
    conversation, pushed to both sides like a typed one. Answers the message row, or the JSON error body."""
    origin = request.headers.get("Origin", "")
    try:
        widget = widget_get_active(key=key)
    except NotFound:
        return _error("not_found", "Chat widget not found.", 404)
    if not widget.allows_origin(origin, own_host=request.get_host()):
        return _error("origin_not_allowed", "This site may not use this chat widget.", 403)
    session = session_for_visitor(widget=widget, token=request.POST.get("token", ""))
    if session is None:
        return _error("not_found", "No conversation for this visitor.", 404, origin=origin)
    try:
        row = chat_visitor_attach(session=session, upload=request.FILES.get("file"),
                                  client_id=request.POST.get("cid", ""), client_ip=client_ip(request))
    except DomainError as exc:
        response = _error(exc.code, exc.message, exc.status, exc.details if isinstance(exc.details, dict) else {},
                          origin=origin)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(exc.retry_after)
        return response
    response = JsonResponse({"message": row}, status=201)
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


@require_GET
def visitor_file_download(request, key: str, attachment_id: int):
    """A file of the visitor's own conversation, for the holder of its token (``?t=``; the widget's links)."""
    try:
        widget = widget_get_active(key=key)
        attachment = attachment_for_visitor(widget=widget, token=request.GET.get("t", ""),
                                            attachment_id=attachment_id)
    except NotFound:
        raise Http404
    response = attachment_response(request, attachment)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token is in the address
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # thumbnails on the host site's page
    return response


@require_GET
def demo_page(request):
    """A page that embeds the demo widget, so chat can be tried right after ``make run``."""
    widget = widget_for_demo()
    return render(request, "chat/demo.html", {"widget": widget})


@agent_required
def workspace(request):
    teams = team_list()
    agents = agent_list()
    canned = canned_reply_list_for_user(user=request.user)[:100]
    return render(request, "chat/workspace.html", {"teams": teams, "agents": agents, "canned": canned})


@agent_required
@require_POST
def agent_file_upload(request, session_id: int):
    """A file from the workspace (multipart: ``file``, ``text``?, ``cid``): the agent's reply carrying it."""
    try:
        session = access_chat_for_agent(user=request.user, session_id=session_id)
        row = chat_agent_reply(session=session, agent=request.user, text=request.POST.get("text", ""),
                               client_id=request.POST.get("cid", ""), upload=request.FILES.get("file"))
    except DomainError as exc:
        return _error(exc.code, exc.message, exc.status, exc.details if isinstance(exc.details, dict) else {})
    return JsonResponse({"message": row}, status=201)


@admin_required
def widget_list(request):
    return render(request, "chat/widget_list.html", {"widgets": widget_list_for_admin(user=request.user)})


@admin_required
@require_http_methods(["GET", "POST"])
def widget_edit(request, widget_id: int | None = None):
    widget = None
    if widget_id is not None:
        try:
            widget = access_widget_for_admin(user=request.user, widget_id=widget_id)
        except NotFound:
            raise Http404
    form = WidgetForm(request.POST or None, instance_values=widget)
    if request.method == "POST" and form.is_valid():
        try:
            widget = widget_save(actor=Actor.for_user(request.user), widget=widget,
                                 rotate_secret=form.cleaned_data.pop("rotate_secret", False), **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Widget saved."))
            return redirect("chat_console:widget_edit", widget_id=widget.pk)
    snippet = (f'<script src="{settings.SITE_URL}/chat/widget.js" data-widget="{widget.key}" async></script>'
               if widget else "")
    return render(request, "chat/widget_edit.html", {"form": form, "widget": widget, "snippet": snippet})
