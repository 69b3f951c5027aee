"""DESIGN.md's import rules, checked on every run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_ALLOWED = (
    "temporalio",
    "models.payloads",
    "workflows.",
    "__future__",
    "asyncio",
    "dataclasses",
    "datetime",
    "collections.abc",
    "typing",
)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """Every imported module of a file, with whether it sits in imports_passed_through()."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    passed_through: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and "imports_passed_through" in ast.unparse(
            node.items[0].context_expr
        ):
            passed_through.update(id(child) for child in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, id(node) in passed_through))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, id(node) in passed_through) for alias in node.names)
    return found


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_import_only_workflow_api_payloads_policies_and_passed_activities() -> None:
    offenders = []
    for path in sorted((ROOT / "workflows").glob("*.py")):
        for module, passed in _imports(path):
            if passed and module.startswith("activities."):
                continue
            if not module.startswith(WORKFLOW_ALLOWED) and module != "workflows":
                offenders.append(f"{path.name}: {module}")
    assert offenders == []


def test_payloads_use_only_the_standard_library() -> None:
    modules = {module.split(".")[0] for module, _ in _imports(ROOT / "models" / "payloads.py")}
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}


def test_migrations_match_the_models(tmp_path: Path) -> None:
    """`alembic check`: no model change is left without its migration."""
    from alembic import command

    from workers.migrate import alembic_config, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'check.db'}"
    upgrade(url)
    command.check(alembic_config(url))
