"""Views and API routers read through selectors: a view or router module that touches a model manager
(``Model.objects``) is a read (or a write) that skipped the app's selectors (or services), where the permission
rules and the query shapes live. Reads move to ``<app>/selectors``, writes to ``<app>/services``."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # atende/
NOT_CHECKED = {"tests", "migrations"}
MANAGERS = {"objects", "_default_manager", "_base_manager"}
HINT = "read through the app's selectors (docs/architecture.md \"Layers\")"

# Modules still reading the ORM directly, with the most reads each may keep and why. A ceiling, not a quota:
# moving a read out needs no change here; adding one fails.
PENDING: dict[str, tuple[int, str]] = {}


def is_view_module(relative: Path) -> bool:
    folders, name = relative.parts[:-1], relative.name
    return (not NOT_CHECKED & set(folders)
            and ("views" in folders or "routers" in folders or name.startswith("views") or name == "api.py"))


def manager_uses(tree: ast.AST) -> list[tuple[int, str]]:
    return sorted((node.lineno, ast.unparse(node)) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and node.attr in MANAGERS)


def view_reads(root: Path) -> dict[str, list[str]]:
    """``module → ["line: Model.objects", …]`` for every view or router module under ``root`` that uses a manager."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if not is_view_module(relative):
            continue
        uses = manager_uses(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if uses:
            found[relative.as_posix()] = [f"{line}: {what}" for line, what in uses]
    return found


def test_views_and_routers_read_through_selectors():
    problems = []
    for module, uses in view_reads(PACKAGE).items():
        ceiling = PENDING.get(module, (0, ""))[0]
        if len(uses) > ceiling:
            problems += [f"{module}:{use}; {HINT}" for use in uses]
    assert problems == [], "ORM use in views or routers:\n" + "\n".join(problems)


def test_the_check_finds_each_manager_use(tmp_path):
    (tmp_path / "shop" / "views").mkdir(parents=True)
    (tmp_path / "shop" / "views" / "pages.py").write_text(
        "def page(request, Item, item):\n"
        "    items = Item.objects.filter(on_sale=True)\n"
        "    first = item.__class__._default_manager.first()\n"
        "    return items, first, item.lines.all()\n")  # a related manager on an object already read is fine
    (tmp_path / "shop" / "views.py").write_text("count = lambda Item: Item.objects.count()\n")
    (tmp_path / "shop" / "api.py").write_text("from x import Item\nALL = Item.objects.all\n")
    (tmp_path / "api" / "routers").mkdir(parents=True)
    (tmp_path / "api" / "routers" / "items.py").write_text("def f(Item):\n    return Item.objects.none()\n")
    (tmp_path / "shop" / "selectors.py").write_text("def items(Item):\n    return Item.objects.all()\n")
    (tmp_path / "shop" / "tests").mkdir()
    (tmp_path / "shop" / "tests" / "test_views.py").write_text("def test(Item):\n    Item.objects.all()\n")
    assert view_reads(tmp_path) == {
        "api/routers/items.py": ["2: Item.objects"],
        "shop/api.py": ["2: Item.objects"],
        "shop/views.py": ["1: Item.objects"],
        "shop/views/pages.py": ["2: Item.objects", "3: item.__class__._default_manager"],
    }


def test_pending_modules_are_view_modules():
    """A typo in ``PENDING`` would silently allow nothing and hide nothing; each entry names a checked module."""
    for module in PENDING:
        assert (PACKAGE / module).exists() and is_view_module(Path(module)), module
