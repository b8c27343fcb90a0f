"""The demo help-centre article "Turn on two-factor authentication" (kb/demo.py) describes the real option: every
label it quotes (in bold or italics) is on the pages a person goes through, in the article's language."""

import html
import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from atende.accounts.tests.factories import AgentFactory
from atende.kb.demo import ARTICLES
from atende.signin.tests.helpers import totp_code

LABEL = re.compile(r"\*\*(.+?)\*\*|\*(.+?)\*")


def _article(slug: str) -> tuple[str, str]:
    row = next(a for a in ARTICLES if a[2] == slug)
    return row[5], row[6]  # body, language


def _pages_text(client: Client, agent) -> str:
    """What the person sees following the article: profile, Security page, the set-up, and after the code."""
    pages = [client.get(url).content.decode() for url in ("/accounts/profile/", "/accounts/security/",
                                                          "/accounts/security/totp/")]
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    pages.append(client.post("/accounts/security/totp/", {"code": totp_code(device)}).content.decode())
    return html.unescape(re.sub(r"\s+", " ", " ".join(pages))).lower()


@pytest.mark.parametrize("slug", ["two-factor-authentication", "autenticacao-em-dois-fatores"])
def test_the_two_factor_article_quotes_labels_that_exist(db, slug):
    body, language = _article(slug)
    agent = AgentFactory(locale=language)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(agent)
    text = _pages_text(client, agent)
    labels = [bold or italic for bold, italic in LABEL.findall(body)]
    assert len(labels) >= 5
    missing = [label for label in labels if " ".join(label.split()).lower() not in text]
    assert missing == [], f"{slug} names what the pages do not show: {missing}"
