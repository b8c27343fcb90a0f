from django.urls import path

from atende.kb.views import manage, partials, public

app_name = "kb"
urlpatterns = [
    path("", public.kb_home, name="home"),
    path("search/", public.kb_search, name="search"),
    path("sitemap.xml", public.kb_sitemap, name="sitemap"),
    path("suggest/", partials.kb_suggest, name="suggest"),
    path("picker/", partials.kb_picker, name="picker"),
    path("deflections/abandon/", partials.kb_deflection_abandon, name="deflection_abandon"),
    path("attachments/<int:attachment_id>/", public.kb_attachment, name="attachment"),
    path("manage/", manage.manage_list, name="manage"),
    path("manage/structure/", manage.manage_structure, name="manage_structure"),
    path("manage/new/", manage.manage_article_new, name="manage_new"),
    path("manage/<int:article_id>/", manage.manage_article_edit, name="manage_edit"),
    path("manage/<int:article_id>/attachments/", manage.manage_attachment_add, name="manage_attachment_add"),
    path("manage/<int:article_id>/attachments/<int:attachment_id>/delete/", manage.manage_attachment_delete,
         name="manage_attachment_delete"),
    path("vote/<slug:article_slug>/", public.kb_article_vote, name="vote"),
    path("<slug:category_slug>/", public.kb_category, name="category"),
    path("<slug:category_slug>/<slug:article_slug>/", public.kb_article, name="article"),
]
