"""Article writing for agents (console pages under /kb/manage/)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.core.pagination import keyset_page
from atende.kb import selectors
from atende.kb.forms import ArticleForm, AttachmentForm, CategoryForm, SectionForm
from atende.kb.services import (
    article_attachment_add,
    article_attachment_delete,
    article_create,
    article_update,
    category_create,
    section_create,
)
from atende.kb.views._common import manage_layout, writer_required
from atende.tickets.services import IncomingFile


def _article_or_404(request, article_id):
    try:
        return selectors.access_article_for_edit(user=request.user, article_id=article_id)
    except NotFound:
        raise Http404


@writer_required
def manage_list(request):
    query = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    qs = selectors.article_list_for_management(user=request.user, query=query, status=status,
                                               language=request.GET.get("language", ""))
    try:
        page = keyset_page(qs, order="-updated_at", cursor=request.GET.get("cursor") or None, size=50)
    except DomainError:
        page = keyset_page(qs, order="-updated_at", size=50)
    return render(request, "kb/manage/list.html", {
        "layout": manage_layout(), "page": page, "query": query, "status": status,
        "has_sections": selectors.has_sections(),
    })


@writer_required
def manage_article_new(request):
    translation_of = None
    if request.GET.get("translation_of") or request.POST.get("translation_of"):
        translation_of = _article_or_404(request, request.GET.get("translation_of") or request.POST.get("translation_of"))
    initial = {"status": "draft", "visibility": "public", "language": "en"}
    if translation_of:
        initial.update(section=translation_of.section_id, visibility=translation_of.visibility,
                       language="pt-br" if translation_of.language == "en" else "en")
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            article = article_create(actor=Actor.for_user(request.user), translation_of=translation_of, **data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Article created."))
            return redirect("kb:manage_edit", article_id=article.pk)
    return render(request, "kb/manage/edit.html", {"layout": manage_layout(), "form": form, "article": None,
                                                   "translation_of": translation_of})


@writer_required
def manage_article_edit(request, article_id: int):
    article = _article_or_404(request, article_id)
    initial = {"title": article.title, "section": article.section_id, "language": article.language,
               "slug": article.slug, "summary": article.summary, "body_markdown": article.body_markdown,
               "status": article.status, "visibility": article.visibility,
               "related": list(article.related.values_list("pk", flat=True))}
    form = ArticleForm(request.POST or None, initial=initial, exclude_pk=article.pk)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        related = data.pop("related")
        try:
            article = article_update(actor=Actor.for_user(request.user), article=article, related=related, **data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Article saved."))
            return redirect("kb:manage_edit", article_id=article.pk)
    return render(request, "kb/manage/edit.html", {
        "layout": manage_layout(), "form": form, "article": article, "attachment_form": AttachmentForm(),
        "translations": selectors.article_translations_for_edit(user=request.user, article=article),
    })


@require_POST
@writer_required
def manage_attachment_add(request, article_id: int):
    article = _article_or_404(request, article_id)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to upload."))
        return redirect("kb:manage_edit", article_id=article.pk)
    try:
        attachment = article_attachment_add(actor=Actor.for_user(request.user), article=article,
                                            incoming=IncomingFile.from_upload(form.cleaned_data["file"]))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("“%(name)s” attached. Link: %(url)s") % {
            "name": attachment.filename, "url": attachment.get_absolute_url()})
    return redirect("kb:manage_edit", article_id=article.pk)


@require_POST
@writer_required
def manage_attachment_delete(request, article_id: int, attachment_id: int):
    article = _article_or_404(request, article_id)
    attachment = article.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    article_attachment_delete(actor=Actor.for_user(request.user), attachment=attachment)
    messages.success(request, _("Attachment removed."))
    return redirect("kb:manage_edit", article_id=article.pk)


@writer_required
def manage_structure(request):
    """Categories and sections: the shelves articles sit on."""
    category_form = CategoryForm(request.POST if request.POST.get("kind") == "category" else None, prefix="c")
    section_form = SectionForm(request.POST if request.POST.get("kind") == "section" else None, prefix="s")
    if request.method == "POST":
        form = category_form if request.POST.get("kind") == "category" else section_form
        if form.is_valid():
            try:
                if form is category_form:
                    category_create(actor=Actor.for_user(request.user), **form.cleaned_data)
                else:
                    section_create(actor=Actor.for_user(request.user), **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Saved."))
                return redirect("kb:manage_structure")
    return render(request, "kb/manage/structure.html", {
        "layout": manage_layout(), "category_form": category_form, "section_form": section_form,
        "categories": selectors.category_list_with_sections(),
    })
