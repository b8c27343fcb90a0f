"""The layer order (``atende/core/layers.py``) holds for every import of every module of every app, including
imports inside functions; a fixture tree that imports against it shows each kind of failure is reported."""

import ast
from pathlib import Path

from atende.core.layers import LAYER_OF, LAYERS, may_import, rule_text

PACKAGE = Path(__file__).resolve().parents[2]  # atende/
FIXTURE = Path(__file__).resolve().parent / "layers_fixture"
NOT_CHECKED = {"tests", "migrations", "testing"}  # test code and test support may reach across layers


def _typing_only(tree: ast.AST) -> set[int]:
    """ids of import nodes inside ``if TYPE_CHECKING:`` blocks (no run-time dependency)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids |= {id(n) for stmt in node.body for n in ast.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return ids


def _imported_apps(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names = ([f"atende.{alias.name}" for alias in node.names] if node.module == "atende" else [node.module])
    else:
        return []
    return [name.split(".")[1] for name in names if name.startswith("atende.") and name.count(".") >= 1]


def layer_violations(root: Path) -> list[str]:
    """``path:line: message`` for every import against the layer order under ``root`` (one folder per app)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if len(relative.parts) < 2 or NOT_CHECKED & set(relative.parts[:-1]):
            continue  # modules at the package root (cli, __main__) sit above every app
        app = relative.parts[0]
        where = path.relative_to(root.parent)
        if app not in LAYER_OF:
            found.append(f"{where}:1: app {app!r} is not placed in atende/core/layers.py LAYERS")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        typing_only = _typing_only(tree)
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            for imported in _imported_apps(node):
                if imported not in LAYER_OF:
                    found.append(f"{where}:{node.lineno}: imports atende.{imported}, an app not placed in "
                                 "atende/core/layers.py LAYERS")
                elif not may_import(app, imported):
                    found.append(f"{where}:{node.lineno}: {rule_text(app, imported)}")
    return found


def test_every_app_is_placed_in_the_layer_order():
    apps = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert apps - set(LAYER_OF) == set(), "place every app in atende/core/layers.py LAYERS"


def test_no_app_appears_twice():
    placed = [app for layer in LAYERS for app in layer]
    assert len(placed) == len(set(placed))


def test_every_import_follows_the_layer_order():
    violations = layer_violations(PACKAGE)
    assert violations == [], "imports against the layer order (atende/core/layers.py):\n" + "\n".join(violations)


def test_the_check_reports_each_kind_of_wrong_import():
    violations = layer_violations(FIXTURE)
    assert violations == [
        "layers_fixture/kb/search.py:1: imports atende.nowhere, an app not placed in atende/core/layers.py LAYERS",
        f"layers_fixture/sla/selectors.py:1: {rule_text('sla', 'automation')}",
        f"layers_fixture/sla/selectors.py:2: {rule_text('sla', 'email_channel')}",
        f"layers_fixture/tickets/services.py:10: {rule_text('tickets', 'automation')}",
    ]
    assert "sla (layer 5) must not import automation (layer 8, higher)" in violations[1]
    assert "peers in layer 5" in violations[2]


def test_may_import_is_the_strict_order():
    assert may_import("automation", "sla") and may_import("sla", "sla")
    assert not may_import("sla", "automation")
    assert not may_import("sla", "email_channel") and not may_import("email_channel", "sla")
    assert all(may_import(app, "core") for app in LAYER_OF)
    assert not any(may_import("core", app) for app in LAYER_OF if app != "core")
