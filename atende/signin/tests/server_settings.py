"""Settings for the ASGI server some tests start in a subprocess: test settings, with mail written to files the
test can count (the in-memory outbox of a subprocess is out of reach)."""

import os

from atende.config.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["ATENDE_TEST_MAIL_DIR"]
