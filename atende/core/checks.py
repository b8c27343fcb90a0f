"""Start-up check: every periodic job and every event subscriber is a dotted path resolved at run time, so a
missing module or dependency would otherwise show up only when the job or event first runs. Django runs system
checks before ``migrate``, ``runserver`` and ``atende serve``; an Error here stops them with the path and the cause.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.checks import Error, register
from django.utils.module_loading import import_string

from atende.core import events, scheduler


def all_subscriber_paths() -> list[str]:
    """Every event subscriber's dotted path. Adapter over the subscriber tables of ``core.events`` until that
    module offers ``all_subscriber_paths()`` itself; then this function delegates to it."""
    if hasattr(events, "all_subscriber_paths"):
        return list(events.all_subscriber_paths())
    paths: list[str] = []
    for table in (events.SYNC_HANDLERS, events.TASK_SUBSCRIBERS):
        for entries in table.values():
            paths.extend(p for p in entries if p not in paths)
    return paths


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
