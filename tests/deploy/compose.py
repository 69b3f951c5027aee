"""The deployment's files read as Docker reads them, for the checks in checks.py.

docker-compose.yml is parsed with its YAML anchors and merge keys resolved, then interpolated the
way Compose does it (`${NAME:-default}`, `${NAME:?message}`, …; minimally, here). Its services are
the store's own, running the image built from the Dockerfile (the `shopflow` processes and the
emulators), and the others (PostgreSQL, Temporal, nginx). A store service's command is parsed by
the real parser of what it runs, and its environment made into the store's Settings as in its
container.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn
from unittest import mock
from urllib.parse import urlsplit

from pydantic import ValidationError
from ruamel.yaml import YAML

from core.settings import Settings
from workers.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
EXAMPLE_ENV = ROOT / "deploy" / "example.env"
NGINX_CONF = ROOT / "deploy" / "nginx" / "shopflow.conf"
PYPROJECT = ROOT / "pyproject.toml"

Document = dict[str, Any]
Service = dict[str, Any]

# `$$`, `${NAME}`, `${NAME<op><argument>}` (op: `-`, `:-`, `?`, `:?`, `+`, `:+`) and `$NAME`.
REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<argument>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
EMULATORS = "emulators"


def read_yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def load_compose(path: Path = COMPOSE_FILE) -> Document:
    """The compose file before interpolation: anchors and merge keys resolved, and no mapping
    shared between services (an alias is one object in Python, one copy per service in Compose)."""
    document: Document = json.loads(json.dumps(read_yaml(path.read_text(encoding="utf-8"))))
    return document


def read_env_file(path: Path = EXAMPLE_ENV) -> dict[str, str]:
    """A `.env` file as Compose reads it: `NAME=value` lines; `#` comments and blank lines."""
    pairs = (line.strip().partition("=") for line in path.read_text(encoding="utf-8").splitlines())
    return {name.strip(): value.strip() for name, _, value in pairs if name and name[0] != "#"}


def pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


# --- interpolation -------------------------------------------------------------------------------


class MissingVariable(ValueError):
    """A `${NAME:?message}` (or `${NAME?message}`) whose variable is not set."""


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Compose's interpolation of every string value (keys are left alone) from `env`: `$$` is a
    `$`; `${NAME}` and `$NAME` the value, or empty; `${NAME:-default}` / `${NAME-default}` the
    default when unset or empty / unset; `${NAME:?message}` / `${NAME?message}` MissingVariable
    when unset or empty / unset; `${NAME:+other}` / `${NAME+other}` the other when set and not
    empty / set. Nested references (a default holding `${...}`) are not supported."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    if isinstance(node, str):
        return REFERENCE.sub(lambda match: _substitute(match, env), node)
    return node


def _substitute(match: re.Match[str], env: Mapping[str, str]) -> str:
    if match["escaped"]:
        return "$"
    name = match["name"] or match["bare"]
    value = env.get(name)
    op, argument = match["op"] or "", match["argument"] or ""
    is_set = value is not None and (bool(value) or not op.startswith(":"))
    if op.endswith("-"):
        return value if is_set and value is not None else argument
    if op.endswith("?"):
        if not is_set or value is None:
            raise MissingVariable(f"{name}: {argument or 'required'}")
        return value
    if op.endswith("+"):
        return argument if is_set else ""
    return value or ""


def references(node: Any) -> Iterator[tuple[str, str]]:
    """Every variable the document's strings refer to, as (name, operator; "" when none)."""
    for text in strings(node, keys=False):
        for match in REFERENCE.finditer(text):
            if not match["escaped"]:
                yield match["name"] or match["bare"], match["op"] or ""


def required_variables(raw: Document) -> set[str]:
    """The variables without which Compose refuses the file (`${NAME:?...}`, `${NAME?...}`)."""
    return {name for name, op in references(raw) if op.endswith("?")}


def strings(node: Any, *, keys: bool = True) -> Iterator[str]:
    """Every string of the document, its mapping keys too unless `keys` is False."""
    if isinstance(node, dict):
        for key, value in node.items():
            if keys:
                yield str(key)
            yield from strings(value, keys=keys)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value, keys=keys)
    elif isinstance(node, str):
        yield node


# --- services ------------------------------------------------------------------------------------


def services(doc: Document) -> dict[str, Service]:
    found: dict[str, Service] = doc.get("services") or {}
    return found


def store_services(doc: Document) -> dict[str, Service]:
    """The services that run the store's image, the one built from the Dockerfile."""
    return {name: service for name, service in services(doc).items() if "build" in service}


def shopflow_services(doc: Document) -> dict[str, Service]:
    """The store's services that run `shopflow`: the image's entrypoint, not replaced."""
    return {name: s for name, s in store_services(doc).items() if "entrypoint" not in s}


def emulator_services(doc: Document) -> dict[str, Service]:
    """The store's services that replace the entrypoint: an emulator each."""
    return {name: s for name, s in store_services(doc).items() if "entrypoint" in s}


def words(value: Any) -> list[str]:
    """A command, entrypoint or health check test in either form (a string is split as a shell
    would)."""
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(part) for part in value]


def environment_of(service: Service) -> dict[str, str]:
    """The service's environment in either form; a name without a value is left out."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = [item.partition("=") for item in environment]
        return {name: value for name, sep, value in pairs if sep}
    return {name: str(value) for name, value in environment.items() if value is not None}


def depends_on(service: Service) -> dict[str, str]:
    """The services this one waits for, each with the condition it waits for."""
    dependencies = service.get("depends_on") or {}
    if isinstance(dependencies, list):
        return dict.fromkeys(dependencies, "service_started")
    return {
        name: (spec or {}).get("condition", "service_started")
        for name, spec in dependencies.items()
    }


def mounts(service: Service) -> list[tuple[str, str]]:
    """The service's volumes as (source, target in the container)."""
    found: list[tuple[str, str]] = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            found.append((str(volume.get("source", "")), str(volume["target"])))
        else:
            source, _, rest = str(volume).partition(":")
            found.append((source, rest.partition(":")[0]))
    return found


def published_ports(service: Service) -> list[tuple[str, int]]:
    """The service's `ports` as (published port on the host, port in the container)."""
    found: list[tuple[str, int]] = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            found.append((str(entry.get("published", "")), int(entry["target"])))
        else:
            *host, container = str(entry).split(":")
            found.append((host[-1] if host else "", int(container.split("/")[0])))
    return found


def probed(service: Service) -> str:
    """What the service's health check tries: the last word of its test (a URL, or a port)."""
    test = words((service.get("healthcheck") or {}).get("test"))
    return test[-1] if test else ""


def port_of(url: str) -> int | None:
    """The port of a URL (the scheme's when none is written)."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def host_of(url: str) -> str:
    return urlsplit(url if "//" in url else f"//{url}").hostname or ""


@contextlib.contextmanager
def only_environment(environment: Mapping[str, str]) -> Iterator[None]:
    """The process environment holds exactly these variables, as a container's would."""
    with mock.patch.dict(os.environ, environment, clear=True):
        yield


def settings_of(service: Service) -> Settings:
    """The settings a `shopflow` process of the service builds (a container has no .env file);
    pydantic's ValidationError when its guards refuse them."""
    with only_environment(environment_of(service)):
        return Settings(_env_file=None)


def parse_shopflow(service: Service) -> argparse.Namespace:
    """The service's command as `shopflow` parses it; SystemExit when it refuses it."""
    with contextlib.redirect_stderr(io.StringIO()):
        return build_parser().parse_args(words(service.get("command")))


def emulator_module(service: Service) -> str:
    """`emulators.<name>` of an entrypoint `python -m emulators.<name>`; ValueError otherwise."""
    entrypoint = words(service.get("entrypoint"))
    if len(entrypoint) != 3 or entrypoint[:2] != ["python", "-m"]:
        raise ValueError(f"entrypoint {entrypoint} is not `python -m {EMULATORS}.<name>`")
    if not entrypoint[2].startswith(f"{EMULATORS}."):
        raise ValueError(f"{entrypoint[2]} is no module of {EMULATORS}")
    return entrypoint[2]


class _Parsed(Exception):
    def __init__(self, namespace: argparse.Namespace) -> None:
        super().__init__()
        self.namespace = namespace


def parse_emulator(service: Service) -> argparse.Namespace:
    """The service's command as its emulator's own `main` parses it. Nothing starts: parsing
    ends the call. SystemExit when the emulator refuses the arguments; ValueError or
    ImportError when the entrypoint runs no emulator."""
    module = emulator_module(service)
    main: Callable[[list[str]], None] = importlib.import_module(module).main
    parse_args = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        raise _Parsed(parse_args(parser, *args, **kwargs))

    with (
        mock.patch.object(argparse.ArgumentParser, "parse_args", parse_then_stop),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        try:
            main(words(service.get("command")))
        except _Parsed as parsed:
            return parsed.namespace
    raise AssertionError(f"{module}.main returned without parsing its arguments")


def running(doc: Document, command: str) -> dict[str, Service]:
    """The `shopflow` services whose command is `command` (api, worker, migrate, …); one whose
    command does not parse is left out (a check of the commands reports it)."""
    found: dict[str, Service] = {}
    for name, service in shopflow_services(doc).items():
        with contextlib.suppress(SystemExit):
            if parse_shopflow(service).command == command:
                found[name] = service
    return found


def emulators(doc: Document) -> dict[str, tuple[str, argparse.Namespace]]:
    """Each emulator service's emulator (`mail`, `bank`, …) and its arguments as parsed; one
    that would not start is left out (a check of the commands reports it)."""
    found: dict[str, tuple[str, argparse.Namespace]] = {}
    for name, service in emulator_services(doc).items():
        with contextlib.suppress(SystemExit, ValueError, ImportError):
            module = emulator_module(service).removeprefix(f"{EMULATORS}.")
            found[name] = module, parse_emulator(service)
    return found


def emulator_port(args: argparse.Namespace) -> int:
    """The port an emulator serves the store on (the mail emulator's: SMTP)."""
    return int(getattr(args, "smtp_port", None) or args.port)


def mounting(doc: Document, source: Path) -> dict[str, Service]:
    """The services that mount this file of the work tree."""
    return {
        name: service
        for name, service in services(doc).items()
        if any((ROOT / mounted).resolve() == source for mounted, _ in mounts(service))
    }


def built_settings(doc: Document) -> dict[str, Settings]:
    """The settings of every `shopflow` service whose environment builds them (the others are
    settings_problems' to report)."""
    built: dict[str, Settings] = {}
    for name, service in shopflow_services(doc).items():
        with contextlib.suppress(ValidationError):
            built[name] = settings_of(service)
    return built


def by_image(doc: Document, prefix: str) -> dict[str, Service]:
    return {n: s for n, s in services(doc).items() if str(s.get("image", "")).startswith(prefix)}


def the_one(found: Mapping[str, Service], what: str) -> tuple[str, Service]:
    if len(found) != 1:
        raise LookupError(f"{len(found)} services are {what}, one expected: {sorted(found)}")
    return next(iter(found.items()))


def disagree(what: str, values: Mapping[str, object]) -> list[str]:
    """One problem when the values (by who holds them) are not all the same."""
    return [f"{what} disagree: {dict(values)}"] if len(set(values.values())) > 1 else []
