from atende.kb.demo import load_demo
from atende.kb.models import Article
from atende.kb.selectors import article_search


def test_demo_is_idempotent_and_searchable(db):
    assert load_demo()["articles"] == 9
    assert load_demo()["articles"] == 0
    assert Article.objects.count() == 9
    assert Article.objects.filter(visibility="internal").count() == 1
    reset = Article.objects.get(slug="reset-your-password")
    assert Article.objects.get(slug="redefinir-sua-senha").translation_group == reset.translation_group
    assert [a.slug for a in article_search(user=None, query="esqueci a senha")][0] == "redefinir-sua-senha"
