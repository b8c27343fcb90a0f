"""Attachment download: the only way a stored file leaves the server, always access-checked."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from atende.core.exceptions import NotFound
from atende.tickets.selectors import access_attachment

INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}


@login_required
def attachment_download(request, attachment_id: int):
    try:
        attachment = access_attachment(user=request.user, attachment_id=attachment_id)
    except NotFound:
        raise Http404
    response = attachment_response(request, attachment)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def attachment_response(request, attachment) -> FileResponse:
    """The file of an attachment the caller has already been allowed to read: shown inline only for types a
    browser cannot run, under a CSP that lets the file do nothing."""
    inline = attachment.content_type in INLINE_TYPES and request.GET.get("download") is None
    response = FileResponse(attachment.file.open("rb"), as_attachment=not inline, filename=attachment.filename,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response
