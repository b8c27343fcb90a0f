"""Every third-party package the product imports at run time is a declared runtime dependency, so a plain
install (``pip install .``, what ``make run`` does) has it. A package only in the ``[test]`` extra would make the
code that imports it fail in production (the start-up check then refuses to start; see test_checks.py)."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "atende"
NOT_RUNTIME = {"tests", "testing", "migrations"}  # test code and its helpers; migrations import only Django


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _canonical(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))


def runtime_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_requirement_name(r) for r in project["dependencies"]}


def runtime_imports() -> dict[str, list[str]]:
    """Top-level names of absolute imports in non-test modules (function bodies included) → where."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if NOT_RUNTIME & set(path.relative_to(PACKAGE).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "atende" and top not in sys.stdlib_module_names:
                    found.setdefault(top, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_runtime_import_is_a_declared_dependency():
    declared = runtime_dependencies()
    distributions = packages_distributions()
    undeclared = []
    for module, places in sorted(runtime_imports().items()):
        providers = {_canonical(d) for d in distributions.get(module, [])}
        if not providers & declared:
            undeclared.append(f"{module} (from {', '.join(sorted(providers)) or 'no installed distribution'}; "
                              f"imported at {places[0]})")
    assert not undeclared, ("imported at run time but not in [project] dependencies of pyproject.toml:\n  "
                            + "\n  ".join(undeclared))


def test_the_scan_sees_imports_inside_functions_and_third_party_only():
    imports = runtime_imports()
    assert "httpx" in imports and "django" in imports
    assert not {"os", "json", "atende", "pytest"} & set(imports)  # stdlib, own package, test-only tools


def test_every_runtime_dependency_is_pinned_in_the_lock_file():
    locked = {_requirement_name(line) for line in (ROOT / "requirements.lock").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert runtime_dependencies() <= locked, runtime_dependencies() - locked
