"""One shape for an app's writes, chosen by size: ``services.py`` while it stays small enough to read in one go,
a ``services/`` package (one module per group of use cases, re-exported by ``__init__``) once it would not."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # atende/
MODULE_MAX_LINES = 400


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def services_shapes(root: Path) -> list[str]:
    problems = []
    for app in sorted(p for p in root.iterdir() if p.is_dir()):
        module, package = app / "services.py", app / "services"
        if module.exists() and _lines(module) > MODULE_MAX_LINES:
            problems.append(f"{app.name}: services.py has {_lines(module)} lines; split it into a services/ package")
        if (package / "__init__.py").exists():
            total = sum(_lines(p) for p in package.glob("*.py"))
            if total <= MODULE_MAX_LINES:
                problems.append(f"{app.name}: services/ has {total} lines in all; one services.py is enough")
    return problems


def test_services_are_a_module_or_a_package_by_size():
    problems = services_shapes(PACKAGE)
    assert problems == [], "\n".join(problems)


def test_the_check_names_both_wrong_shapes(tmp_path):
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "services.py").write_text("x = 1\n" * (MODULE_MAX_LINES + 1))
    (tmp_path / "small" / "services").mkdir(parents=True)
    (tmp_path / "small" / "services" / "__init__.py").write_text("from .a import f\n")
    (tmp_path / "small" / "services" / "a.py").write_text("def f():\n    pass\n")
    (tmp_path / "fine" / "services").mkdir(parents=True)
    (tmp_path / "fine" / "services" / "__init__.py").write_text("x = 1\n" * MODULE_MAX_LINES)
    (tmp_path / "fine" / "services" / "b.py").write_text("y = 1\n")
    assert services_shapes(tmp_path) == [
        f"big: services.py has {MODULE_MAX_LINES + 1} lines; split it into a services/ package",
        "small: services/ has 3 lines in all; one services.py is enough",
    ]
