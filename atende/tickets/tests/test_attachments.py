"""Attachments: limits and types, SHA-256 and de-duplicated storage, and the access-checked download."""

import hashlib
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.tickets.models import Attachment, Message, Ticket, TicketEvent
from atende.tickets.services import IncomingFile, message_add_note, message_add_reply
from atende.tickets.services.attachments import validate_file
from atende.tickets.tests.factories import make_ticket
from atende.tickets.tests.helpers import event_rows

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_reply_attachment_is_stored_with_its_digest(ticket, customer, settings, delivered_events,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Screenshot",
                                    attachments=[IncomingFile("../../etc/screen shot.png", PNG, "image/png")])
    attachment = Attachment.objects.get()
    assert attachment.message == message and attachment.ticket_id == ticket.pk
    assert attachment.filename == "screen_shot.png"  # no path, no spaces
    assert attachment.size == len(PNG) and attachment.content_type == "image/png"
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    assert attachment.uploaded_by == customer
    assert attachment.file.read() == PNG
    assert os.path.commonpath([attachment.file.path, settings.MEDIA_ROOT]) == settings.MEDIA_ROOT
    assert event_rows(ticket, "REPLY_ADDED")[0].data["attachments"] == [attachment.pk]
    assert delivered_events[0]["data"]["attachments"] == [attachment.pk]


def test_same_bytes_are_stored_once(ticket, customer):
    for name in ("a.png", "b.png"):
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="again",
                          attachments=[IncomingFile(name, PNG, "image/png")])
    first, second = Attachment.objects.order_by("id")
    assert first.sha256 == second.sha256 and first.file.name == second.file.name
    assert (first.filename, second.filename) == ("a.png", "b.png")
    stored_dir = os.path.dirname(first.file.path)
    assert os.listdir(stored_dir) == [os.path.basename(first.file.name)]


@pytest.mark.parametrize(("incoming", "code"), [
    (IncomingFile("empty.txt", b"", "text/plain"), "attachment_empty"),
    (IncomingFile("big.pdf", b"x" * 2049, "application/pdf"), "attachment_too_large"),
    (IncomingFile("tool.exe", b"MZ\x90", "application/x-msdownload"), "attachment_type"),
    (IncomingFile("photo.png.exe", PNG, "image/png"), "attachment_type"),  # a lie about the type
    (IncomingFile("page.html", b"<script>", "text/plain"), "attachment_type"),
])
def test_bad_files_are_refused_and_nothing_is_written(incoming, code, ticket, customer, settings):
    settings.ATTACHMENT_MAX_BYTES = 2048
    with pytest.raises(ValidationError) as info:
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="see file", attachments=[incoming])
    assert info.value.code == code
    assert not Attachment.objects.exists()
    assert Message.objects.count() == 1 and TicketEvent.objects.count() == 1
    assert Ticket.objects.get(pk=ticket.pk).version == 1


@pytest.mark.parametrize(("incoming", "english", "portuguese"), [
    (IncomingFile("empty.txt", b"", "text/plain"), "is empty", "está vazio"),
    (IncomingFile("big.pdf", b"x" * 2049, "application/pdf"), "the limit is", "o limite é"),
    (IncomingFile("tool.exe", b"MZ", "application/x-msdownload"), "are not accepted", "não são aceitos"),
])
def test_refusals_are_worded_in_the_active_language(incoming, english, portuguese, settings):
    settings.ATTACHMENT_MAX_BYTES = 2048
    for language, expected in (("en", english), ("pt-br", portuguese)):
        with translation.override(language), pytest.raises(ValidationError) as info:
            validate_file(incoming)
        assert expected in str(info.value) and incoming.filename in str(info.value)


def test_oversized_upload_is_refused_before_reading(settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    upload = SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain")
    with pytest.raises(ValidationError) as info:
        IncomingFile.from_upload(upload)
    assert info.value.code == "attachment_too_large"
    ok = IncomingFile.from_upload(SimpleUploadedFile("ok.txt", b"fine", content_type="text/plain"))
    assert ok.content == b"fine" and ok.content_type == "text/plain"


def test_a_ticket_can_be_opened_with_only_an_attachment(customer):
    ticket = make_ticket(requester=customer, body="", attachments=[IncomingFile("scan.pdf", b"%PDF-1.4", "")])
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.content_type == "application/pdf"  # guessed from the name when the sender gives none


# --- download view: every role -------------------------------------------------------------------------------

@pytest.fixture
def files(team_ticket, agent):
    reply = Attachment.objects.get(ticket=team_ticket)
    note = message_add_note(ticket=team_ticket, actor=Actor.for_user(agent), body_text="internal",
                            attachments=[IncomingFile("internal.txt", b"secret notes", "text/plain")])
    return {"reply": reply, "note": note.attachments.get()}


@pytest.fixture
def team_ticket(customer, agent, team):
    return make_ticket(requester=customer, actor=Actor.for_user(agent), team=team,
                       attachments=[IncomingFile("invoice.pdf", b"%PDF-1.4 invoice", "application/pdf")])


@pytest.mark.parametrize(("viewer", "reply_ok", "note_ok"), [
    ("anonymous", None, None),
    ("other_customer", False, False),
    ("org_member_private", False, False),
    ("customer", True, False),
    ("collaborator", True, True),
    ("restricted_outsider", False, False),
    ("agent", True, True),
    ("admin_user", True, True),
])
def test_attachment_download_per_role(viewer, reply_ok, note_ok, request, client, files, organization,
                                      core_urls):
    from atende.accounts.tests.factories import AgentFactory, CustomerFactory, TeamFactory

    users = {
        "anonymous": None,
        "other_customer": CustomerFactory(),
        "org_member_private": CustomerFactory(organization=organization),  # the org does not share
        "restricted_outsider": AgentFactory(restrict_to_teams=True),
    }
    if viewer in users:
        user = users[viewer]
    else:
        user = request.getfixturevalue(viewer)
    if viewer == "restricted_outsider":
        TeamFactory().members.add(user)
    if user is not None:
        client.force_login(user)
    for kind, ok in (("reply", reply_ok), ("note", note_ok)):
        response = client.get(reverse("tickets:attachment", args=[files[kind].pk]))
        if ok is None:
            assert response.status_code == 302 and "/accounts/login/" in response.url
        elif ok:
            assert response.status_code == 200
            assert b"".join(response.streaming_content) in (b"%PDF-1.4 invoice", b"secret notes")
            assert response["X-Content-Type-Options"] == "nosniff"
        else:
            assert response.status_code == 404
    missing = client.get(reverse("tickets:attachment", args=[999999]))
    assert missing.status_code == (302 if user is None else 404)


def test_download_serves_images_inline_and_other_files_as_downloads(client, customer, ticket, core_urls):
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="files",
                      attachments=[IncomingFile("shot.png", PNG, "image/png"),
                                   IncomingFile("data.zip", b"PK\x03\x04", "application/zip")])
    png, zip_file = Attachment.objects.order_by("id")
    client.force_login(customer)
    inline = client.get(reverse("tickets:attachment", args=[png.pk]))
    assert inline["Content-Type"] == "image/png" and inline["Content-Disposition"].startswith("inline")
    download = client.get(reverse("tickets:attachment", args=[zip_file.pk]))
    assert download["Content-Disposition"].startswith("attachment") and 'filename="data.zip"' in download[
        "Content-Disposition"]
