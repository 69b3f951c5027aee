"""The Dockerfile and its build context (.dockerignore), against pyproject.toml and the tree."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.deploy import image_checks
from tests.deploy.compose import DOCKERFILE, DOCKERIGNORE, pyproject


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return pyproject()


def test_the_dockerfile_installs_the_project_and_runs_shopflow(project: dict[str, Any]) -> None:
    assert image_checks.dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8"), project) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('ENTRYPOINT ["shopflow"]', 'ENTRYPOINT ["python", "-m", "workers.cli"]', "ENTRYPOINT"),
        ('ENTRYPOINT ["shopflow"]', "ENTRYPOINT shopflow", "exec form"),
        ('ENTRYPOINT ["shopflow"]', 'ENTRYPOINT ["shopflow-admin"]', "[project.scripts]"),
        ("USER 10001:10001", "USER root", "runs as root"),
        ("USER 10001:10001\n", "", "runs as root"),
        ("FROM python:3.11-slim\n", "FROM python:3.10-slim\n", "FROM python:3.10-slim"),
        ("FROM python:3.11-slim AS build", "FROM python:3.11 AS build", "FROM python:3.11 AS"),
        ("pip install .", "pip install -r requirements.txt", "pip install ."),
    ],
)
def test_the_dockerfile_check_fails(
    project: dict[str, Any], old: str, new: str, expected: str
) -> None:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert old in dockerfile
    problems = image_checks.dockerfile_problems(dockerfile.replace(old, new), project)
    assert any(expected in problem for problem in problems), problems


def test_the_entrypoint_must_be_the_script_of_the_shopflow_command(
    project: dict[str, Any],
) -> None:
    elsewhere = copy.deepcopy(project)
    elsewhere["project"]["scripts"]["shopflow"] = "workers.other:main"
    problems = image_checks.dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8"), elsewhere)
    assert problems == ["ENTRYPOINT shopflow runs workers.other:main, not workers.cli:main"]


def test_the_build_context_has_what_pip_needs_and_no_local_state(
    project: dict[str, Any],
) -> None:
    assert (
        image_checks.dockerignore_problems(DOCKERIGNORE.read_text(encoding="utf-8"), project) == []
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda text: text + "core\n", "leaves out core/settings.py"),
        (lambda text: text + "*.md\n", "leaves out README.md"),
        (lambda text: text + "**/templates\n", "leaves out web/templates/"),
        (lambda text: text.replace("\n.env\n*.env\n", "\n"), "takes .env"),
        (lambda text: text + "!.env\n", "takes .env"),
        (lambda text: text.replace("\ntests\n", "\n"), "takes tests/conftest.py"),
    ],
    ids=["a package", "the readme", "package data", ".env", ".env taken back", "tests"],
)
def test_the_build_context_check_fails(project: dict[str, Any], edit: Any, expected: str) -> None:
    dockerignore = DOCKERIGNORE.read_text(encoding="utf-8")
    problems = image_checks.dockerignore_problems(edit(dockerignore), project)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("patterns", "path", "out"),
    [
        ("var", "var/shop.db", True),
        ("/var/", "var/shop.db", True),
        ("var", "web/var.py", False),
        ("*.env", "deploy/example.env", False),
        ("**/*.env", "deploy/example.env", True),
        ("**/__pycache__", "web/__pycache__/pages.cpython-311.pyc", True),
        ("**/*.py[cod]", "web/pages.pyc", True),
        ("docs\n!docs/keep.md", "docs/keep.md", False),
        ("docs\n!docs/keep.md", "docs/other.md", True),
    ],
)
def test_dockerignore_patterns_match_as_docker_matches_them(
    patterns: str, path: str, out: bool
) -> None:
    assert image_checks.left_out(path, image_checks.ignore_rules(patterns)) is out
