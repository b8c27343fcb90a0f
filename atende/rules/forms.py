"""Form parts of the rule settings pages. They only parse input; the services check what a rule means."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

JSON_ATTRS = {"rows": 8, "class": "json", "spellcheck": "false"}


class JSONField(forms.CharField):
    """A textarea holding JSON; the rule services check what it means."""

    def __init__(self, *, empty, builder: str = "", **kwargs):
        """``builder``: "conditions" or "actions" has the visual rule builder enhance the textarea."""
        self.empty = empty
        kwargs.setdefault("required", False)
        attrs = {**JSON_ATTRS, "data-rule-builder": builder} if builder else JSON_ATTRS
        kwargs.setdefault("widget", forms.Textarea(attrs=attrs))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (dict, list)):
            return json.dumps(value, indent=2, ensure_ascii=False)
        return value

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return self.empty
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s (line %(line)s, column %(col)s)."),
                                        params={"error": exc.msg, "line": exc.lineno, "col": exc.colno})
