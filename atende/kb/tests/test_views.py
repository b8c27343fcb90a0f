import pytest
from django.urls import reverse

from atende.core.actor import Actor
from atende.kb.models import Article, Deflection, KbCategory, KbSection
from atende.kb.services import article_attachment_add
from atende.tickets.services import IncomingFile

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
READERS = ["anonymous", "customer", "other_customer", "collaborator", "agent", "admin_user"]


@pytest.fixture
def as_user(client, request):
    def login(who):
        if who != "anonymous":
            client.force_login(request.getfixturevalue(who))
        return client

    return login


@pytest.mark.parametrize("who", READERS)
def test_public_pages_are_readable_by_everyone(as_user, who, public_article, portuguese_article):
    client = as_user(who)
    category = public_article.section.category
    for url in [reverse("kb:home"), reverse("kb:search") + "?q=password", reverse("kb:sitemap"),
                reverse("kb:suggest") + "?subject=password", category.get_absolute_url(),
                public_article.get_absolute_url()]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who,status", [("anonymous", 404), ("customer", 404), ("other_customer", 404),
                                        ("collaborator", 200), ("agent", 200), ("admin_user", 200)])
def test_internal_article_is_for_staff_only(as_user, who, status, internal_article):
    client = as_user(who)
    attachment = article_attachment_add(actor=Actor.system(), article=internal_article,
                                        incoming=IncomingFile("diagram.png", PNG))
    assert client.get(internal_article.get_absolute_url()).status_code == status
    assert client.get(reverse("kb:attachment", args=[attachment.pk])).status_code == status
    listed = internal_article.title.encode() in client.get(reverse("kb:search") + "?q=escalating").content
    assert listed is (status == 200)


@pytest.mark.parametrize("who,status", [("anonymous", 404), ("customer", 404), ("collaborator", 404),
                                        ("agent", 200), ("admin_user", 200)])
def test_drafts_only_previewed_by_writers(as_user, who, status, draft_article):
    client = as_user(who)
    assert client.get(draft_article.get_absolute_url()).status_code == 404
    assert client.get(draft_article.get_absolute_url() + "?preview=1").status_code == status


@pytest.mark.parametrize("who,status", [("anonymous", 302), ("customer", 404), ("other_customer", 404),
                                        ("collaborator", 404), ("agent", 200), ("admin_user", 200)])
def test_management_pages_are_for_agents(as_user, who, status, public_article):
    client = as_user(who)
    for url in [reverse("kb:manage"), reverse("kb:manage_new"), reverse("kb:manage_structure"),
                reverse("kb:manage_edit", args=[public_article.pk]), reverse("kb:picker") + "?q=password"]:
        response = client.get(url)
        assert response.status_code == status, url
        if status == 302:
            assert response["Location"].startswith(reverse("accounts:login"))


def test_sitemap_lists_only_public_published_articles(client, public_article, internal_article, draft_article):
    body = client.get(reverse("kb:sitemap")).content.decode()
    assert public_article.get_absolute_url() in body
    assert internal_article.slug not in body and draft_article.slug not in body
    assert public_article.section.category.get_absolute_url() in body


def test_article_page_shows_translation_and_wrong_category_redirects(client, public_article, portuguese_article):
    page = client.get(public_article.get_absolute_url()).content.decode()
    assert portuguese_article.get_absolute_url() in page and 'hreflang="pt-br"' in page
    response = client.get(reverse("kb:article", args=["wrong", public_article.slug]))
    assert response.status_code == 301 and response["Location"] == public_article.get_absolute_url()
    public_article.refresh_from_db()
    assert public_article.view_count == 1


def test_anonymous_vote_counts_once_per_session(client, public_article):
    url = reverse("kb:vote", args=[public_article.slug])
    client.post(url, {"helpful": "yes"})
    response = client.post(url, {"helpful": "yes"}, HTTP_HX_REQUEST="true")
    assert b"Thank you for your feedback" in response.content
    public_article.refresh_from_db()
    assert public_article.helpful_count == 1


def test_suggestion_view_then_beacon_records_a_deflection(client, customer, public_article):
    client.force_login(customer)
    partial = client.get(reverse("kb:suggest"), {"subject": "forgot my password"}).content.decode()
    assert f"{public_article.get_absolute_url()}?suggested=1&amp;q=forgot" in partial
    client.get(public_article.get_absolute_url(), {"suggested": "1", "q": "forgot my password"})
    deflection = Deflection.objects.get()
    assert (deflection.outcome, deflection.customer, deflection.query) == ("pending", customer,
                                                                            "forgot my password")
    assert client.post(reverse("kb:deflection_abandon")).status_code == 204
    deflection.refresh_from_db()
    assert deflection.outcome == "deflected"


def test_agent_writes_an_article_and_script_is_stripped(client, agent, kb_section):
    client.force_login(agent)
    response = client.post(reverse("kb:manage_new"), {
        "title": "Configure SSO", "section": kb_section.pk, "language": "en", "slug": "", "summary": "SAML",
        "body_markdown": "Use **SAML**.<script>alert('x')</script>", "status": "published",
        "visibility": "public"})
    article = Article.objects.get(title="Configure SSO")
    assert response.status_code == 302 and response["Location"] == reverse("kb:manage_edit", args=[article.pk])
    page = client.get(article.get_absolute_url()).content.decode()
    assert "<strong>SAML</strong>" in page and "alert('x')" not in page
    # then its Portuguese translation
    client.post(reverse("kb:manage_new") + f"?translation_of={article.pk}", {
        "translation_of": article.pk, "title": "Configurar SSO", "section": kb_section.pk, "language": "pt-br",
        "body_markdown": "Use SAML.", "status": "published", "visibility": "public"})
    assert Article.objects.get(title="Configurar SSO").translation_group == article.translation_group


def test_agent_upload_with_forbidden_type_is_refused(client, agent, public_article):
    client.force_login(agent)
    response = client.post(reverse("kb:manage_attachment_add", args=[public_article.pk]),
                           {"file": _upload("virus.exe", b"MZ...", "application/x-msdownload")}, follow=True)
    assert "are not accepted" in response.content.decode()
    assert not public_article.attachments.exists()


def test_structure_page_creates_category_and_section(client, agent):
    client.force_login(agent)
    client.post(reverse("kb:manage_structure"), {"kind": "category", "c-name": "Billing", "c-name_pt_br": "Cobrança"})
    category = KbCategory.objects.get(slug="billing")
    client.post(reverse("kb:manage_structure"), {"kind": "section", "s-category": category.pk, "s-name": "Invoices"})
    assert KbSection.objects.filter(category=category, name="Invoices").exists()
    response = client.post(reverse("kb:manage_structure"), {"kind": "category", "c-name": "Manage"})
    assert "reserved" in response.content.decode()


def test_picker_returns_links_and_disables_internal(client, agent, public_article, internal_article):
    client.force_login(agent)
    html = client.get(reverse("kb:picker"), {"q": "password", "target": "id_body"}).content.decode()
    assert f'data-url="http://testserver{public_article.get_absolute_url()}"' in html
    assert 'data-target="id_body"' in html
    assert html.count("disabled") == 1  # the internal article cannot be sent to a customer


def _upload(name, content, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)
