from django.contrib.sitemaps import Sitemap

from atende.kb.choices import ArticleStatus, ArticleVisibility
from atende.kb.models import Article, KbCategory


class ArticleSitemap(Sitemap):
    """Published public articles only (internal ones and drafts never appear)."""

    changefreq = "weekly"
    priority = 0.7

    def items(self):
        return (Article.objects.filter(status=ArticleStatus.PUBLISHED, visibility=ArticleVisibility.PUBLIC)
                .select_related("section__category").order_by("pk"))

    def lastmod(self, article):
        return article.updated_at


class CategorySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        public = Article.objects.filter(status=ArticleStatus.PUBLISHED, visibility=ArticleVisibility.PUBLIC)
        return KbCategory.objects.filter(sections__articles__in=public).distinct().order_by("position", "pk")


SITEMAPS = {"articles": ArticleSitemap, "categories": CategorySitemap}
