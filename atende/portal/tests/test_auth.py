import re

import pytest
from django.core import mail
from django.urls import reverse

from atende.accounts.models import User
from atende.accounts.tests.factories import AgentFactory, CustomerFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://\S+")


def _link(message) -> str:
    return LINK.search(message.body).group(0).replace("http://127.0.0.1:8000", "")


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"


def _sign_up(client, capture, email="nova@cliente.example", password="a-long-passphrase-42"):
    with capture(execute=True):
        return client.post(reverse("accounts:signup"), {"name": "Nova Cliente", "email": email,
                                                         "password": password, "password_again": password})


def test_sign_up_sends_verification_then_link_verifies_and_logs_in(client, django_capture_on_commit_callbacks):
    response = _sign_up(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:signup_done")
    user = User.objects.get(email="nova@cliente.example")
    assert user.is_customer and not user.email_verified and user.check_password("a-long-passphrase-42")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nova@cliente.example"]
    assert "Confirm your email" in mail.outbox[0].subject
    # before verifying, portal pages are held back
    client.force_login(user)
    assert client.get(reverse("portal:tickets"))["Location"] == reverse("portal:verify_needed")
    client.logout()
    response = client.get(_link(mail.outbox[0]))
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    user.refresh_from_db()
    assert user.email_verified
    assert client.get(reverse("portal:tickets")).status_code == 200  # logged in by the link
    assert b"already verified" in client.get(_link(mail.outbox[0]), follow=True).content


def test_sign_up_in_portuguese_sends_portuguese_link_page(client, django_capture_on_commit_callbacks):
    client.cookies["django_language"] = "pt-br"
    _sign_up(client, django_capture_on_commit_callbacks)
    assert User.objects.get().locale == "pt-br"


@pytest.mark.parametrize("password,error", [("short", "too short"), ("password123", "too common")])
def test_sign_up_rejects_weak_passwords(client, django_capture_on_commit_callbacks, password, error):
    response = _sign_up(client, django_capture_on_commit_callbacks, password=password)
    assert response.status_code == 200 and error in response.content.decode()
    assert not User.objects.exists() and not mail.outbox


def test_sign_up_with_existing_address_points_to_log_in(client, django_capture_on_commit_callbacks, customer):
    response = _sign_up(client, django_capture_on_commit_callbacks, email=customer.email.upper())
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1 and not mail.outbox


def test_tampered_and_expired_verification_links(client, django_capture_on_commit_callbacks, settings):
    _sign_up(client, django_capture_on_commit_callbacks)
    link = _link(mail.outbox[0])
    tampered = client.get(link[:-3] + "xyz/")
    assert tampered.status_code == 400 and b"not valid" in tampered.content
    settings.PORTAL_VERIFY_MAX_AGE = -1
    expired = client.get(link)
    assert expired.status_code == 400 and b"expired" in expired.content
    assert not User.objects.get().email_verified


def test_magic_link_logs_in_once(client, django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="sem.senha@cliente.example")
    customer.set_unusable_password()
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:magic_link"), {"email": "Sem.Senha@cliente.example"})
    assert response["Location"] == reverse("accounts:magic_link_sent")
    link = _link(mail.outbox[0])
    assert "log-in link" in mail.outbox[0].subject
    confirm = client.get(link)  # a mail scanner following the link does not use it up
    assert confirm.status_code == 200 and b"Log in as sem.senha@cliente.example" in confirm.content
    response = client.post(link, {"next": reverse("portal:tickets")})
    assert response.status_code == 302 and response["Location"] == reverse("portal:tickets")
    customer.refresh_from_db()
    assert customer.email_verified and customer.last_login is not None
    assert client.get(reverse("portal:tickets")).status_code == 200
    client.logout()
    again = client.post(link)
    assert again.status_code == 400 and b"already been used" in again.content


def test_magic_link_tampered_expired_and_unknown(client, django_capture_on_commit_callbacks, customer, settings):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:magic_link"), {"email": "nobody@nowhere.example"})
        client.post(reverse("accounts:magic_link"), {"email": AgentFactory().email})  # agents use passwords
    assert not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:magic_link"), {"email": customer.email})
    link = _link(mail.outbox[0])
    assert client.post(link.replace(":", "x", 1)).status_code == 400
    settings.PORTAL_MAGIC_LINK_MAX_AGE = -1
    response = client.post(link)
    assert response.status_code == 400 and b"expired" in response.content
    assert "_auth_user_id" not in client.session


def test_password_reset_through_the_queue_for_a_customer_without_password(client,
                                                                          django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="reset@cliente.example")
    customer.set_unusable_password()
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "reset@cliente.example"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1 and "new password" in mail.outbox[0].subject
    form_page = client.get(_link(mail.outbox[0]), follow=True)
    assert b"Choose a new password" in form_page.content
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": "brand-new-secret-77",
                                                             "new_password2": "brand-new-secret-77"})
    assert response["Location"] == reverse("accounts:password_reset_complete")
    customer.refresh_from_db()
    assert customer.check_password("brand-new-secret-77") and customer.email_verified


def test_login_page_links_to_sign_up_reset_and_magic_link(client):
    page = client.get(reverse("accounts:login")).content.decode()
    for name in ("accounts:signup", "accounts:password_reset", "accounts:magic_link"):
        assert reverse(name) in page


def test_auth_email_is_in_the_users_language(client, django_capture_on_commit_callbacks):
    CustomerFactory(email="pt@cliente.example", locale="pt-br")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:magic_link"), {"email": "pt@cliente.example"})
    assert mail.outbox[0].to == ["pt@cliente.example"]
