"""Saves and deletions through the Django admin's own ``save_model`` and ``delete_model`` (what its forms call),
without building each admin form's POST data."""

from __future__ import annotations

from django.contrib import admin
from django.test import RequestFactory


def _request(user):
    request = RequestFactory().post("/admin/")
    request.user = user
    return request


def admin_save(user, obj):
    """Save ``obj`` as the admin's change (or add) form does."""
    admin.site._registry[type(obj)].save_model(_request(user), obj, form=None, change=obj.pk is not None)
    return obj


def admin_delete(user, obj) -> None:
    admin.site._registry[type(obj)].delete_model(_request(user), obj)
