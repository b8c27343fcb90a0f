"""Rules from STYLE.md checked on the source: one place assigns a ticket's status and no signals drive domain flow.
The import direction between apps is checked for every app by core/tests/test_layers.py."""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # atende/
TICKETS = PACKAGE / "tickets"


def _sources(root: Path):
    for path in sorted(root.rglob("*.py")):
        parts = set(path.relative_to(PACKAGE).parts)
        if "tests" in parts or "migrations" in parts or "testing" in parts:
            continue
        yield path, path.read_text(encoding="utf-8")


def _where(path: Path, text: str, match: re.Match) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0).strip()}"


TICKET_STATUS_ASSIGN = re.compile(r"^[^#\n]*\b\w*ticket\w*(?:\.\w+)*\.status\s*=(?!=)", re.IGNORECASE | re.MULTILINE)
SETATTR_STATUS = re.compile(r"setattr\([^,]*,\s*[\"']status[\"']")
QUERYSET_STATUS_UPDATE = re.compile(r"Ticket\.objects[^\n]*\.update\([^)]*\bstatus\s*=")
ANY_STATUS_ASSIGN = re.compile(r"^[^#\n]*\.status\s*=(?!=)", re.MULTILINE)


def test_ticket_status_is_assigned_only_in_apply_status():
    offenders = []
    for path, text in _sources(PACKAGE):
        if path == TICKETS / "models.py":
            continue
        for pattern in (TICKET_STATUS_ASSIGN, SETATTR_STATUS, QUERYSET_STATUS_UPDATE):
            offenders += [_where(path, text, m) for m in pattern.finditer(text)]
    # Inside the tickets app every ``.status =`` is suspect (except the search/filter query objects, not tickets).
    for path, text in _sources(TICKETS):
        if path == TICKETS / "models.py" or path == TICKETS / "filters.py" or "search" in path.parts:
            continue
        offenders += [_where(path, text, m) for m in ANY_STATUS_ASSIGN.finditer(text)]
    assert sorted(set(offenders)) == [], "status must change only through ticket_transition → Ticket.apply_status"


def test_models_assign_status_only_inside_apply_status():
    tree = ast.parse((TICKETS / "models.py").read_text(encoding="utf-8"))
    owners = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for child in ast.walk(node):
                if isinstance(child, ast.Assign) and any(
                        isinstance(t, ast.Attribute) and t.attr == "status" for t in child.targets):
                    owners.append(node.name)
    assert owners == ["apply_status"]


def test_apply_status_is_called_only_by_ticket_transition():
    callers = []
    for path, text in _sources(PACKAGE):
        for _match in re.finditer(r"\.apply_status\(", text):
            callers.append(str(path.relative_to(PACKAGE)))
    assert callers == ["tickets/services/lifecycle.py"]


SIGNALS = re.compile(r"\b(post_save|pre_save|post_delete|pre_delete|m2m_changed)\b|@receiver\(")


def test_no_signals_drive_domain_flow():
    offenders = [_where(path, text, m) for path, text in _sources(PACKAGE) for m in SIGNALS.finditer(text)]
    assert offenders == [], "publish events from services (core.events), not Django signals"


def test_every_service_is_atomic_and_keyword_only():
    import inspect

    from atende.tickets import services

    for name in services.__all__:
        fn = getattr(services, name)
        if not inspect.isfunction(fn) or name == "record_event":
            continue
        params = inspect.signature(fn).parameters.values()
        assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params), f"{name} takes positional arguments"
        # tickets_autoclose deliberately commits ticket by ticket, and ticket_create checks its input before it
        # opens its one transaction; every other service is one transaction
        assert hasattr(fn, "__wrapped__") or name in ("tickets_autoclose", "ticket_create"), \
            f"{name} is not @transaction.atomic"
