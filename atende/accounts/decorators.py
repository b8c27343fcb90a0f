"""Page access by role. Anonymous visitors are sent to log in; users without the role get the same 404 as for a
page that does not exist, so the console's pages are not advertised to customers."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


def role_required(allowed: Callable[[object], bool]):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not allowed(request.user):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


admin_required = role_required(lambda user: user.is_admin)
agent_required = role_required(lambda user: user.is_agent)
staff_required = role_required(lambda user: user.is_staff_member)
