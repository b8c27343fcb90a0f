from django import forms
from django.utils.translation import gettext_lazy as _

from atende.kb.choices import ArticleLanguage, ArticleStatus, ArticleVisibility
from atende.kb.models import Article, KbCategory, KbSection


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    section = forms.ModelChoiceField(label=_("Section"), queryset=KbSection.objects.select_related("category"))
    language = forms.ChoiceField(label=_("Language"), choices=ArticleLanguage.choices)
    slug = forms.SlugField(label=_("Address (slug)"), max_length=200, required=False,
                           help_text=_("Leave empty to make one from the title."))
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False,
                              help_text=_("One or two sentences shown in search results and suggestions."))
    body_markdown = forms.CharField(label=_("Body (Markdown)"), required=False,
                                    widget=forms.Textarea(attrs={"rows": 18, "class": "mono"}))
    status = forms.ChoiceField(label=_("Status"), choices=ArticleStatus.choices)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=ArticleVisibility.choices)
    related = forms.ModelMultipleChoiceField(label=_("Related articles"), queryset=Article.objects.none(),
                                             required=False, widget=forms.SelectMultiple(attrs={"size": 6}))

    def __init__(self, *args, exclude_pk=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["related"].queryset = Article.objects.exclude(pk=exclude_pk).order_by("title")


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File or image"))


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    name_pt_br = forms.CharField(label=_("Name (Portuguese)"), max_length=120, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    description_pt_br = forms.CharField(label=_("Description (Portuguese)"), max_length=300, required=False)


class SectionForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=KbCategory.objects.all())
    name = forms.CharField(label=_("Name"), max_length=120)
    name_pt_br = forms.CharField(label=_("Name (Portuguese)"), max_length=120, required=False)
