"""Attachments: metadata and the file itself, both behind the same access check as the pages."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from ninja import Router

from atende.api.routers.messages import AttachmentOut, attachment_data
from atende.api.schemas import ERRORS, responses
from atende.tickets.selectors import access_attachment

router = Router(tags=["attachments"])


@router.get("/attachments/{attachment_id}", response=responses(AttachmentOut), summary="Attachment details")
def attachment_read(request: HttpRequest, attachment_id: int):
    return attachment_data(access_attachment(user=request.user, attachment_id=attachment_id))


@router.get("/attachments/{attachment_id}/content", response=ERRORS, summary="Download an attachment",
            openapi_extra={"responses": {200: {"description": "The file", "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}})
def attachment_content(request: HttpRequest, attachment_id: int):
    attachment = access_attachment(user=request.user, attachment_id=attachment_id)
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Attachment-Content-Type"] = attachment.content_type
    response["Cache-Control"] = "private, max-age=3600"
    return response
