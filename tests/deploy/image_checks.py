"""The store's image: the Dockerfile (slim Python of a version the project allows, `pip install
.`, not root, `shopflow` as the entry point) and the build context `.dockerignore` leaves."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from packaging.specifiers import SpecifierSet

from tests.deploy.compose import ROOT
from workers.cli import build_parser


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    lines = (line.strip() for line in joined.splitlines())
    found = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "") for parts in found]


def dockerfile_problems(dockerfile: str, project: Mapping[str, Any]) -> list[str]:
    """Every stage starts from python:<version>-slim with a version the project's
    requires-python admits; it installs the project (`pip install .`); the final stage runs as
    a user other than root; and its ENTRYPOINT (exec form) is the `shopflow` script of
    [project.scripts], the command whose parser the compose commands were checked with."""
    steps = instructions(dockerfile)
    problems: list[str] = []
    requires = SpecifierSet(project["project"]["requires-python"])
    for keyword, argument in steps:
        if keyword == "FROM":
            match = re.fullmatch(r"python:(\d+\.\d+)-slim(?:\s+AS\s+\S+)?", argument, re.IGNORECASE)
            if not match or match[1] not in requires:
                problems.append(f"FROM {argument}: not python:<{requires}>-slim")
    if not any(k == "RUN" and re.search(r"pip install \.(\s|$)", a) for k, a in steps):
        problems.append("no RUN installs the project with `pip install .`")
    final_stage = max((i for i, (keyword, _) in enumerate(steps) if keyword == "FROM"), default=0)
    users = [argument for keyword, argument in steps[final_stage:] if keyword == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append(f"the image runs as root (USER {users[-1] if users else 'unset'})")
    entrypoints = [argument for keyword, argument in steps if keyword == "ENTRYPOINT"]
    scripts = project["project"].get("scripts", {})
    main = f"{build_parser.__module__}:main"
    try:
        entrypoint = json.loads(entrypoints[-1]) if entrypoints else None
    except json.JSONDecodeError:
        entrypoint = None
    if not isinstance(entrypoint, list) or len(entrypoint) != 1 or entrypoint[0] not in scripts:
        problems.append(f"ENTRYPOINT {entrypoints[-1:]} is not a [project.scripts] name, exec form")
    elif scripts[entrypoint[0]] != main:
        problems.append(f"ENTRYPOINT {entrypoint[0]} runs {scripts[entrypoint[0]]}, not {main}")
    return problems


def ignore_rules(dockerignore: str) -> list[tuple[bool, re.Pattern[str]]]:
    """A .dockerignore's rules as (is it a `!` exception, the pattern as a regular expression):
    Go's filepath.Match patterns, with `**` for any number of directories, from the context's
    root."""
    rules: list[tuple[bool, re.Pattern[str]]] = []
    for line in dockerignore.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        regex = ""
        for token in re.findall(r"\*\*/|\*\*|\*|\?|\[[^]]*\]|[^*?[]", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, token if token.startswith("[") else re.escape(token)
            )
        rules.append((exception, re.compile(regex)))
    return rules


def left_out(path: str, rules: Iterable[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether the build context leaves `path` out: the last rule matching it, or one of its
    parent directories, decides (as Docker's MatchesOrParentMatches does)."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for exception, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            verdict = not exception
    return verdict


# Local state, secrets and the developers' tools: never in the image.
NEVER_IN_CONTEXT = (".env", ".venv/bin/python", "var/shop.db", ".git/HEAD", "tests/conftest.py")


def dockerignore_problems(dockerignore: str, project: Mapping[str, Any]) -> list[str]:
    """The build context keeps everything `pip install .` reads (pyproject.toml, the readme, every
    file of the packages [tool.setuptools] lists) and leaves out local state, secrets and
    tests."""
    rules = ignore_rules(dockerignore)
    needed = ["pyproject.toml", str(project["project"].get("readme", "README.md"))]
    for package in {name.split(".")[0] for name in project["tool"]["setuptools"]["packages"]}:
        needed += [
            str(path.relative_to(ROOT))
            for path in sorted((ROOT / package).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts
        ]
    problems = [f"the build context leaves out {path}" for path in needed if left_out(path, rules)]
    problems += [f"the build context takes {p}" for p in NEVER_IN_CONTEXT if not left_out(p, rules)]
    return problems
