"""Helpers shared by the pages of several apps."""

from __future__ import annotations


def page_base(user) -> str:
    """The template a page extends: staff see it inside the console's shell, everyone else in the plain one."""
    return "console/base.html" if user.is_staff_member else "base.html"
