"""Start-up check: every periodic job, event subscriber and channel layer backend is a dotted path resolved
at run time, so a missing module or dependency would otherwise show up only when it is first used. Django runs system
checks before ``migrate``, ``runserver`` and ``atende serve``; an Error here stops them with the path and the cause.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.checks import Error, register
from django.utils.module_loading import import_string

from atende.core import events, scheduler


def all_subscriber_paths() -> list[str]:
    """Every event subscriber's dotted path (the dispatcher's subscribers and the on-commit push)."""
    return list(events.all_subscriber_paths())


def periodic_job_paths() -> list[str]:
    return list(scheduler.PERIODIC_TASKS)


def unimportable(paths: Iterable[str], *, kind: str, check_id: str) -> list[Error]:
    errors = []
    for path in paths:
        try:
            import_string(path)
        except ImportError as exc:
            errors.append(Error(f"{kind} {path!r} cannot be imported: {exc}",
                                hint="Install the missing dependency or correct the dotted path.",
                                obj=path, id=check_id))
    return errors


@register()
def dotted_paths_check(app_configs=None, **kwargs) -> list[Error]:
    return [*unimportable(periodic_job_paths(), kind="Periodic job", check_id="atende.E001"),
            *unimportable(all_subscriber_paths(), kind="Event subscriber", check_id="atende.E002")]


@register()
def subscriber_order_check(app_configs=None, **kwargs) -> list[Error]:
    """The declared order of the events subscribers must make sense (``after=`` names a subscriber listed
    before it; names are unique), or the dispatcher would wait for ever on one that never runs."""
    return [Error(problem, obj="atende.core.events.SUBSCRIBERS", id="atende.E003")
            for problem in events.subscriber_order_problems()]


@register()
def channel_layer_check(app_configs=None, **kwargs) -> list[Error]:
    """The channel layer's backend is imported on first use (the first websocket or push): one that cannot be
    imported stops start-up instead. (Django's own checks already load the cache backends.)"""
    from django.conf import settings

    paths = [c["BACKEND"] for c in getattr(settings, "CHANNEL_LAYERS", {}).values()]
    return unimportable(dict.fromkeys(paths), kind="Channel layer", check_id="atende.E004")
