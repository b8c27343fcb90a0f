"""Django's database sessions with the session row read by SQL compiled once per connection.

Every signed-in request reads its session row (nothing is kept between requests: ending a session deletes the row,
and the very next request of any process finds none). Only building and compiling the query is saved."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from atende.core.prepared import PreparedLookup

_session_by_key = PreparedLookup(lambda key: Session.objects.filter(session_key=key), "key")


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        key = self.session_key
        found = _session_by_key(key=key) if isinstance(key, str) else None
        # An expired row is no session (Django's ``expire_date__gt=now``, checked on the row read by its key).
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None
            return None
        return found
