"""Password-reset and log-in-link emails: one per address a minute, per IP too, the same page whether or not
the address has an account, refusals recorded."""

import pytest
from django.core import mail

from atende.accounts.tests.factories import AgentFactory, CustomerFactory
from atende.core.models import ThrottleBucket
from atende.signin.models import SignInSession


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    def post(client, url, data, ip="192.0.2.50"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, REMOTE_ADDR=ip)
    return post


@pytest.mark.parametrize("url", ["/accounts/password-reset/", "/accounts/magic-link/"])
def test_one_email_per_address_and_the_same_answer_for_unknown_addresses(client, db, send_now, url):
    CustomerFactory(email="carla@cliente.example")
    known = [send_now(client, url, {"email": "carla@cliente.example"}) for _ in range(3)]
    unknown = [send_now(client, url, {"email": "nobody@cliente.example"}) for _ in range(3)]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["carla@cliente.example"]
    assert {(r.status_code, r.url) for r in known} == {(r.status_code, r.url) for r in unknown}
    assert len({(r.status_code, r.url) for r in known}) == 1
    refused = ThrottleBucket.objects.filter(scope="auth_email.address", refused__gt=0)
    assert {b.subject: b.refused for b in refused} == {"carla@cliente.example": 2, "nobody@cliente.example": 2}


def test_one_network_asking_for_many_addresses_is_stopped(client, db, send_now, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "auth_email.ip": "3/15m"}
    for n in range(3):
        CustomerFactory(email=f"c{n}@cliente.example")
        send_now(client, "/accounts/password-reset/", {"email": f"c{n}@cliente.example"})
    response = send_now(client, "/accounts/password-reset/", {"email": "c0@cliente.example"})
    assert response.status_code == 429 and "Too many requests" in response.content.decode()
    assert len(mail.outbox) == 3
    other = send_now(client, "/accounts/magic-link/", {"email": "c1@cliente.example"}, ip="192.0.2.51")
    assert other.status_code == 302


def test_a_completed_reset_ends_every_session_of_the_account(client, db, send_now):
    agent = AgentFactory(email="reset@atende.test")
    elsewhere = client.__class__()
    elsewhere.post("/accounts/login/", {"username": agent.email, "password": "secret-pass-1"})
    assert elsewhere.get("/accounts/profile/").status_code == 200
    send_now(client, "/accounts/password-reset/", {"email": agent.email})
    link = next(word for word in mail.outbox[0].body.split() if "/password-reset/" in word)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form = client.get("/" + path, follow=True)
    response = client.post(form.redirect_chain[-1][0], {"new_password1": "A-new-passphrase-77",
                                                        "new_password2": "A-new-passphrase-77"})
    assert response.status_code == 302
    assert elsewhere.get("/accounts/profile/").status_code == 302
    assert SignInSession.objects.get(user=agent).ended_reason == "password_reset"
