"""URLs reversed once per process must be what ``reverse`` gives, under any script prefix; fragments kept per
process must still show each request's own values, escaped."""

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from atende.console.reversing import url_with_id, url_without_args

WITH_ID = ["console:ticket", "console:ticket_panel", "console:ticket_timeline", "console:customer",
           "tickets:attachment", "triage:ticket_sidebar"]
WITHOUT = ["console:queues", "console:search", "console:notifications", "api:tokens"]


@pytest.mark.parametrize("prefix", ["/", "/desk/"])
def test_urls_are_what_reverse_gives(prefix):
    set_script_prefix(prefix)
    try:
        for _ in range(2):  # the second round from the kept patterns
            for name in WITH_ID:
                for value in [0, 7, 41, 123_456_789_012]:
                    assert url_with_id(name, value) == reverse(name, args=[value])
                assert url_with_id(name, "12") == reverse(name, args=["12"])
            for name in WITHOUT:
                assert url_without_args(name) == reverse(name)
        assert url_with_id("console:ticket", 5).startswith(prefix)
    finally:
        clear_script_prefix()


@pytest.mark.django_db
def test_the_search_box_shows_each_request_its_own_query(client, agent):
    client.force_login(agent)
    for query in ['a<b>"c\'&', "second"]:
        page = client.get(reverse("console:search"), {"q": query}).content.decode()
        escaped = query.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        assert f'value="{escaped.replace(chr(39), "&#x27;")}" autocomplete' in page
