"""Files in live chat: the widget's upload (token + origin), the tickets' checks, and access-checked downloads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from atende.chat.consumer_io import agent_conversation
from atende.chat.selectors import transcript_text
from atende.chat.services import chat_accept, chat_start
from atende.chat.tokens import visitor_id_new, visitor_token_make
from atende.tickets.models import Attachment, Message

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def handed_over(widget, name="Dora"):
    """A conversation with a person (nothing to suggest: straight to the queue) and its visitor token."""
    visitor_id = visitor_id_new()
    session = chat_start(widget=widget, visitor_id=visitor_id, question="zzqx broken checkout", name=name,
                         client_ip="10.0.0.1")
    assert session.ticket_id
    return session, visitor_token_make(widget_key=widget.key, visitor_id=visitor_id)


def upload(widget, token, file, origin=ORIGIN, cid="c1"):
    data = {"token": token, "file": file, "cid": cid}
    headers = {"Origin": origin} if origin else {}
    return Client().post(f"/chat/widget/{widget.key}/files", data, headers=headers)


def png(name="screen.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def test_upload_becomes_an_attachment_of_a_ticket_reply_both_sides_can_open(widget, agent, client):
    session, token = handed_over(widget)
    response = upload(widget, token, png())
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    row = response.json()["message"]
    assert row["from"] == "visitor" and row["cid"] == "c1"
    [file] = row["files"]
    assert file["name"] == "screen.png" and file["image"] is True and file["size"] == len(PNG)

    attachment = Attachment.objects.get(pk=file["id"])
    assert attachment.ticket_id == session.ticket_id
    assert attachment.message.author_id == session.customer_id and attachment.message.kind == "reply"
    assert attachment.file.read() == PNG

    # A resend after a reconnect (same cid) stores nothing new.
    assert upload(widget, token, png()).json()["message"]["id"] == row["id"]
    assert Attachment.objects.filter(ticket_id=session.ticket_id).count() == 1

    # The agent sees it in the workspace and opens it through the ticket attachment URL.
    conversation = agent_conversation(user=agent, session_id=session.pk)
    assert conversation["messages"][-1]["files"][0]["id"] == attachment.pk
    client.force_login(agent)
    agent_copy = client.get(f"/tickets/attachments/{attachment.pk}/")
    assert agent_copy.status_code == 200 and b"".join(agent_copy.streaming_content) == PNG

    # The visitor opens it with their token.
    mine = Client().get(f"/chat/widget/{widget.key}/files/{attachment.pk}", {"t": token})
    assert mine.status_code == 200 and b"".join(mine.streaming_content) == PNG
    assert mine["Referrer-Policy"] == "no-referrer"


def test_another_visitor_or_no_token_cannot_download(widget):
    session, token = handed_over(widget)
    attachment_id = upload(widget, token, png()).json()["message"]["files"][0]["id"]
    _, other_token = handed_over(widget, name="Eve")
    url = f"/chat/widget/{widget.key}/files/{attachment_id}"
    assert Client().get(url, {"t": other_token}).status_code == 404
    assert Client().get(url).status_code == 404
    assert Client().get(url, {"t": token + "x"}).status_code == 404
    assert Client().get(url, {"t": token}).status_code == 200


@pytest.mark.parametrize("name,content,content_type,code", [
    ("big.png", PNG * 4, "image/png", "attachment_too_large"),
    ("run.exe", b"MZ" + b"\x00" * 10, "application/x-msdownload", "attachment_type"),
    ("page.html", b"<script>alert(1)</script>", "text/plain", "attachment_type"),
    ("empty.png", b"", "image/png", "attachment_empty"),
])
def test_refused_files_are_a_json_error_and_store_nothing(widget, settings, name, content, content_type, code):
    settings.ATTACHMENT_MAX_BYTES = 200
    session, token = handed_over(widget)
    messages_before = Message.objects.filter(ticket_id=session.ticket_id).count()
    response = upload(widget, token, SimpleUploadedFile(name, content, content_type=content_type))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # the widget can read the reason
    assert not Attachment.objects.filter(ticket_id=session.ticket_id).exists()
    assert Message.objects.filter(ticket_id=session.ticket_id).count() == messages_before


@pytest.mark.parametrize("origin", ["https://evil.example", ""])
def test_upload_from_an_origin_off_the_allow_list_is_refused(widget, origin):
    session, token = handed_over(widget)
    response = upload(widget, token, png(), origin=origin)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert not Attachment.objects.filter(ticket_id=session.ticket_id).exists()


def test_upload_needs_a_valid_token_and_a_person_in_the_conversation(widget, article, settings):
    _, token = handed_over(widget)
    forged = visitor_token_make(widget_key="another", visitor_id=visitor_id_new())
    assert upload(widget, forged, png()).status_code == 404
    # With the bot still answering there is no ticket to attach to yet.
    visitor_id = visitor_id_new()
    chat_start(widget=widget, visitor_id=visitor_id, question="How do I reset my password?", client_ip="10.0.0.2")
    response = upload(widget, visitor_token_make(widget_key=widget.key, visitor_id=visitor_id), png())
    assert response.status_code == 409 and response.json()["error"]["code"] == "chat_not_with_person"
    assert not Attachment.objects.exists()


def test_uploads_share_the_visitor_message_rate_limit(widget, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "chat.message.visitor": "2/min"}
    _, token = handed_over(widget)
    assert upload(widget, token, png(), cid="a").status_code == 201
    assert upload(widget, token, png(), cid="b").status_code == 201
    response = upload(widget, token, png(), cid="c")
    assert response.status_code == 429 and response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1


def test_agent_sends_a_file_from_the_workspace_and_the_visitor_opens_it(widget, agent, other_agent, online, client):
    online(agent)
    session, token = handed_over(widget)
    chat_accept(session=session, agent=agent)
    client.force_login(agent)
    response = client.post(f"/console/chat/{session.pk}/files", {"file": png("steps.png"), "cid": "a1"})
    assert response.status_code == 201, response.content
    row = response.json()["message"]
    assert row["from"] == "agent" and row["files"][0]["name"] == "steps.png"
    attachment = Attachment.objects.get(pk=row["files"][0]["id"])
    assert attachment.ticket_id == session.ticket_id and attachment.uploaded_by == agent
    mine = Client().get(f"/chat/widget/{widget.key}/files/{attachment.pk}", {"t": token})
    assert mine.status_code == 200 and b"".join(mine.streaming_content) == PNG

    refused = client.post(f"/console/chat/{session.pk}/files",
                          {"file": SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "attachment_type"
    # Only the agent holding the conversation sends into it.
    client.force_login(other_agent)
    other = client.post(f"/console/chat/{session.pk}/files", {"file": png()})
    assert other.status_code == 409 and other.json()["error"]["code"] == "chat_not_yours"
    assert Attachment.objects.filter(ticket_id=session.ticket_id).count() == 1


def test_the_transcript_names_the_files_without_a_link(widget):
    session, token = handed_over(widget)
    upload(widget, token, png("error-dialog.png"))

    text = transcript_text(session)
    assert "[error-dialog.png]" in text and "/files/" not in text and "/attachments/" not in text
