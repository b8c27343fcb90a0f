from django.contrib import admin

from atende.kb.models import Article, ArticleAttachment, Deflection, KbCategory, KbSection


@admin.register(KbCategory)
class KbCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_pt_br", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(KbSection)
class KbSectionAdmin(admin.ModelAdmin):
    list_display = ["name", "name_pt_br", "category", "position"]
    list_select_related = ["category"]


class ArticleAttachmentInline(admin.TabularInline):
    model = ArticleAttachment
    extra = 0
    fields = ["filename", "content_type", "size"]
    readonly_fields = fields
    can_delete = False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Read-mostly: agents write articles in the console (``/kb/manage/``), where the services render Markdown."""

    list_display = ["title", "language", "status", "visibility", "section", "view_count", "helpful_count",
                    "not_helpful_count"]
    list_filter = ["status", "visibility", "language", "section__category"]
    search_fields = ["title", "slug"]
    readonly_fields = ["title", "slug", "language", "section", "status", "visibility", "summary", "body_markdown",
                       "view_count", "helpful_count", "not_helpful_count", "published_at", "author"]
    exclude = ["related", "updated_by"]
    inlines = [ArticleAttachmentInline]

    def has_add_permission(self, request):
        return False


@admin.register(Deflection)
class DeflectionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "article", "customer", "outcome", "query"]
    list_filter = ["outcome"]
    list_select_related = ["article", "customer"]
