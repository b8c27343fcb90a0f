"""Attachment validation and storage, shared by every channel."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from atende.core.exceptions import ValidationError
from atende.core.text_hygiene import clean_filename
from atende.tickets.models import Attachment, Message, Ticket


@dataclass(frozen=True)
class IncomingFile:
    """A file from any channel: a form upload, an email part, an API multipart field."""

    filename: str
    content: bytes
    content_type: str = ""
    content_id: str = ""

    @classmethod
    def from_upload(cls, upload) -> IncomingFile:
        if upload.size is not None and upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise ValidationError(_too_large(upload.name, upload.size), code="attachment_too_large")
        return cls(filename=upload.name, content=upload.read(), content_type=upload.content_type or "")


# Executable or active content is refused whatever content type the sender claims for it.
BLOCKED_EXTENSIONS = frozenset({
    "bat", "cmd", "com", "cpl", "exe", "hta", "htm", "html", "jar", "js", "jse", "lnk", "msi", "ps1", "scr", "sh",
    "svg", "vbe", "vbs", "wsf", "xhtml",
})


def _too_large(name: str, size: int) -> str:
    return _("“%(name)s” is %(size)s; the limit is %(limit)s.") % {
        "name": name, "size": filesizeformat(size), "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}


def validate_file(incoming: IncomingFile, *, check_type: bool = True) -> tuple[str, str]:
    """Return (safe file name, content type) or raise ValidationError with a readable reason."""
    name = clean_filename(incoming.filename)
    size = len(incoming.content)
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="attachment_empty")
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(_too_large(name, size), code="attachment_too_large")
    guessed = mimetypes.guess_type(name)[0] or ""
    content_type = (incoming.content_type or guessed or "application/octet-stream").split(";")[0].strip().lower()
    if content_type == "application/octet-stream" and guessed:
        content_type = guessed
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if check_type and (content_type not in settings.ATTACHMENT_ALLOWED_TYPES or extension in BLOCKED_EXTENSIONS):
        raise ValidationError(_("Files of type %(type)s (“%(name)s”) are not accepted.")
                              % {"type": content_type, "name": name}, code="attachment_type")
    return name, content_type


def validate_files(files, *, check_type: bool = True) -> list[tuple[IncomingFile, str, str]]:
    return [(f, *validate_file(f, check_type=check_type)) for f in files]


def attachments_store(*, ticket: Ticket, message: Message | None, validated, uploaded_by=None) -> list[Attachment]:
    """Store already-validated files (content-addressed: the same bytes are written once)."""
    stored = []
    for incoming, name, content_type in validated:
        digest = hashlib.sha256(incoming.content).hexdigest()
        attachment = Attachment(ticket=ticket, message=message, filename=name, content_type=content_type,
                                size=len(incoming.content), sha256=digest, content_id=incoming.content_id[:255],
                                uploaded_by=uploaded_by)
        existing = Attachment.objects.filter(sha256=digest).exclude(file="").values_list("file", flat=True).first()
        if existing and attachment.file.storage.exists(existing):
            attachment.file.name = existing
        else:
            attachment.file.save(name, ContentFile(incoming.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored
