import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from atende.kb.models import Deflection
from atende.kb.services import deflection_start
from atende.tickets.models import Attachment, CustomField, Ticket, TicketEvent, TicketForm, TicketFormField

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def billing_form(db):
    order = CustomField.objects.create(key="order_number", label="Order number", label_pt_br="Número do pedido",
                                       kind="text")
    plan = CustomField.objects.create(key="plan", label="Plan", kind="dropdown", choices=["free", "pro"])
    secret = CustomField.objects.create(key="risk", label="Risk score", kind="number", customer_visible=False)
    form = TicketForm.objects.create(name="Billing question", name_pt_br="Dúvida de cobrança", ticket_type="question")
    TicketFormField.objects.create(form=form, field=order, required=True, position=1)
    TicketFormField.objects.create(form=form, field=plan, required=False, position=2)
    TicketFormField.objects.create(form=form, field=secret, required=False, position=3)
    TicketForm.objects.create(name="General request", is_default=True)
    return form


def _post(client, data, files=()):
    payload = {"subject": "Charged twice", "description": "My card was charged twice in March.", **data}
    if files:
        payload["attachments"] = list(files)
    return client.post(reverse("portal:request_new"), payload)


def test_form_picker_and_customer_visible_fields(client, customer, billing_form):
    client.force_login(customer)
    page = client.get(reverse("portal:request_new")).content.decode()
    assert "General request" in page and "Billing question" in page
    page = client.get(reverse("portal:request_new"), {"form": billing_form.pk}).content.decode()
    assert "Order number" in page and "Risk score" not in page
    client.cookies["django_language"] = "pt-br"
    assert "Número do pedido" in client.get(reverse("portal:request_new"), {"form": billing_form.pk}).content.decode()
    assert client.get(reverse("portal:request_new"), {"form": 999}).status_code == 404


def test_submit_with_custom_fields_and_attachment(client, customer, billing_form):
    client.force_login(customer)
    response = _post(client, {"form_id": billing_form.pk, "cf_order_number": "A-1001", "cf_plan": "pro"},
                     [SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")])
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:request_submitted", args=[ticket.number])
    assert (ticket.requester, ticket.channel, ticket.form, ticket.status) == (customer, "web", billing_form, "new")
    assert ticket.custom_fields == {"order_number": "A-1001", "plan": "pro"}
    message = ticket.messages.get()
    assert message.body_text == "My card was charged twice in March." and message.author == customer
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == ("receipt.pdf", "application/pdf",
                                                                               len(PDF))
    event = TicketEvent.objects.get(ticket=ticket, type="TICKET_CREATED")
    assert event.actor_user == customer and event.actor_kind == "customer"
    assert event.data["attachments"] == [attachment.pk]
    done = client.get(response["Location"]).content.decode()
    assert f"#{ticket.number}" in done and "we received your request" in done


def test_missing_required_field_stores_nothing(client, customer, billing_form):
    client.force_login(customer)
    response = _post(client, {"form_id": billing_form.pk, "cf_plan": "gold", "subject": ""},
                     [SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")])
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("This field is required.") == 2  # subject and order number
    assert "Select a valid choice" in page
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


@pytest.mark.parametrize("upload,error", [
    (SimpleUploadedFile("huge.pdf", PDF + b"0" * 2000, content_type="application/pdf"), "the limit is"),
    (SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/x-msdownload"), "are not accepted"),
    (SimpleUploadedFile("empty.txt", b"", content_type="text/plain"), "empty"),
])
def test_bad_uploads_are_refused_with_a_clear_message(client, customer, settings, upload, error):
    settings.ATTACHMENT_MAX_BYTES = 1000
    client.force_login(customer)
    response = _post(client, {}, [SimpleUploadedFile("ok.txt", b"fine", content_type="text/plain"), upload])
    assert response.status_code == 200 and error in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_script_in_description_is_stored_as_text_and_escaped(client, customer):
    client.force_login(customer)
    _post(client, {"description": "<script>alert('x')</script> help"})
    ticket = Ticket.objects.get()
    page = client.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_submitting_marks_suggested_articles_as_not_deflecting(client, customer, public_article):
    client.force_login(customer)
    client.get(reverse("portal:request_new"))
    deflection_start(article=public_article, session_key=client.session.session_key, customer=customer)
    _post(client, {})
    assert Deflection.objects.get().outcome == "submitted"


def test_agents_cannot_submit_through_the_portal(client, agent):
    client.force_login(agent)
    response = _post(client, {})
    assert "console" in response.content.decode() and not Ticket.objects.exists()


@pytest.mark.parametrize(("language", "with_policy", "expected"), [
    ("en", True, "We usually answer within 4 business hours."),
    ("pt-br", True, "Costumamos responder em até 4 horas úteis."),
    ("en", False, "We will answer as soon as possible."),
])
def test_the_portal_states_the_expected_reply_time_until_the_first_answer(client, customer, agent, language,
                                                                           with_policy, expected):
    from atende.core.actor import Actor
    from atende.core.outbox.drain import drain
    from atende.sla.services.definitions import policy_save
    from atende.tickets.services import message_add_reply

    if with_policy:
        policy_save(name="Standard", conditions={}, first_reply_minutes=240, business_hours=True)
    client.force_login(customer)
    client.cookies["django_language"] = language
    response = _post(client, {})
    ticket = Ticket.objects.get()
    assert expected in client.get(response["Location"]).content.decode()  # the acknowledgement page
    drain(jobs=False)  # the SLA subscriber has recorded the target since
    detail = client.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
    assert expected in detail
    listing = client.get(reverse("portal:tickets")).content.decode()
    assert (("reply expected by" in listing) or ("resposta prevista" in listing)) == with_policy
    message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="On it.")
    assert expected not in client.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
