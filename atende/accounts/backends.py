from django.contrib.auth.backends import ModelBackend

from atende.core.prepared import PreparedLookup

from .models import User

# The signed-in user, read on every request (never kept between requests: a deactivated user or a changed password
# is seen on the next one), by SQL compiled once per connection.
_user_by_id = PreparedLookup(lambda pk: User._default_manager.filter(pk=pk), "pk")


class EmailBackend(ModelBackend):
    """Log in with the email address, case-insensitively."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        return super().authenticate(request, username=(email or username or "").strip().lower(), password=password)

    def get_user(self, user_id):
        if type(user_id) is not int:
            return super().get_user(user_id)
        user = _user_by_id(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
