"""Console forms of the knowledge base."""

from __future__ import annotations

from typing import Any

from django import forms

from supportdesk.contracts.models import Product, ProductVersion
from supportdesk.kb.domain.markdown import BODY_MAX_CHARS
from supportdesk.kb.models import ArticleCategory, Visibility


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=100, required=False, help_text="Blank: from the title.")
    summary = forms.CharField(max_length=300, required=False, help_text="The meta description.")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18}), max_length=BODY_MAX_CHARS, help_text="Markdown."
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.INTERNAL)
    category = forms.ModelChoiceField(queryset=ArticleCategory.objects.none(), required=False)
    new_category = forms.CharField(max_length=120, required=False, label="Or a new category")
    products = forms.ModelMultipleChoiceField(queryset=Product.objects.none(), required=False)
    versions = forms.ModelMultipleChoiceField(
        queryset=ProductVersion.objects.none(), required=False
    )
    note = forms.CharField(max_length=200, required=False, label="What changed")

    def __init__(self, *args: Any, vendor_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ArticleCategory.objects.filter(vendor_id=vendor_id)  # type: ignore[attr-defined]
        self.fields["products"].queryset = Product.objects.filter(vendor_id=vendor_id)  # type: ignore[attr-defined]
        self.fields["versions"].queryset = ProductVersion.objects.filter(  # type: ignore[attr-defined]
            product__vendor_id=vendor_id
        ).select_related("product")


class ImageForm(forms.Form):
    image = forms.ImageField()
