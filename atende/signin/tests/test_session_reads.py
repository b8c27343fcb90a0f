"""Each signed-in request reads its session row and its user again (by SQL compiled once per connection, nothing
kept between requests): whatever another process changed in the database (a session ended or expired, a password
changed, a user deactivated) refuses the very next request."""

import datetime

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.utils import timezone

from atende.accounts.models import User
from atende.accounts.tests.factories import AgentFactory
from atende.core.testing.compiled import count_compiled

PASSWORD = "secret-pass-1"
PAGE = "/accounts/profile/"


@pytest.fixture
def signed_in(db):
    agent = AgentFactory()
    client = Client()
    assert client.post("/accounts/login/", {"username": agent.email, "password": PASSWORD}).status_code == 302
    for _ in range(2):  # warm: the reads' SQL is compiled
        assert client.get(PAGE).status_code == 200
    return agent, client


def _refused(client) -> bool:
    response = client.get(PAGE)
    return response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_a_warm_request_builds_no_query_for_its_session_or_its_user(signed_in, monkeypatch):
    _agent, client = signed_in
    built = count_compiled(monkeypatch)
    assert client.get(PAGE).status_code == 200
    assert not {Session, User} & set(built), built


def test_a_session_row_deleted_elsewhere_is_refused_on_the_next_request(signed_in):
    _agent, client = signed_in
    with connection.cursor() as cursor:  # as another process ending it would
        cursor.execute("DELETE FROM django_session")
    assert _refused(client)


def test_an_expired_session_row_is_refused_on_the_next_request(signed_in):
    _agent, client = signed_in
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert _refused(client)


def test_a_password_changed_elsewhere_is_refused_on_the_next_request(signed_in):
    agent, client = signed_in
    User.objects.filter(pk=agent.pk).update(password=make_password("another-pass-2"))
    assert _refused(client)


def test_a_deactivated_user_is_refused_on_the_next_request(signed_in):
    agent, client = signed_in
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert _refused(client)


def test_a_signed_out_cookie_is_refused_when_sent_again(signed_in):
    _agent, client = signed_in
    cookie = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert _refused(replay)
