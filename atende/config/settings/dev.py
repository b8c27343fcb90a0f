"""Local development and ``make run``: plain HTTP on loopback."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
EMAIL_BACKEND = __import__("os").environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
