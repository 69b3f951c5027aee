"""The checks of the deployment's files against the Compose Specification and against the code.

Each check answers the problems it finds (none: it passes). Every compose check takes the file as
written (`raw`, from compose.load_compose) and the variables to interpolate it with, as
`docker compose` takes them from `.env`, whether it uses them or not, so tests run them all
alike, on the file and on mutated copies that each must fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from core.settings import Settings
from models.payloads import Queues
from tests.deploy.compose import (
    ROOT,
    Document,
    MissingVariable,
    Service,
    built_settings,
    depends_on,
    disagree,
    environment_of,
    interpolate,
    mounts,
    parse_emulator,
    parse_shopflow,
    read_env_file,
    read_yaml,
    references,
    required_variables,
    running,
    services,
    settings_of,
    shopflow_services,
    store_services,
    strings,
    the_one,
    words,
)
from workers.bootstrap import Dependencies, activities_by_domain
from workflows.policies import DOMAINS, SEARCH_ATTRIBUTES

SETTING = re.compile(r"\bSHOP_[A-Z0-9_]+")
INSIDE = "0.0.0.0"  # a container listens on every interface of its own network
POSTGRES_PORT = 5432
API_REPLICAS = 2  # at least: the API is stateless, one replica may go while another serves
TEMPORAL_FRONTEND_PORT = 7233  # temporalio/auto-setup's FRONTEND_GRPC_PORT unless set
# The emulators standing in for the outside systems (emulators/<name>.py).
OUTSIDE = ("mail", "sms", "couriers", "bank")


# --- the compose file ----------------------------------------------------------------------------


def schema_problems(path: Path) -> list[str]:
    """The file against the Compose Specification's JSON schema as check-jsonschema vendors it
    (`--builtin-schema vendor.compose-spec`: compose-spec/compose-spec's schema/compose-spec.json
    of that release), and no obsolete top-level `version` key (the schema still allows it)."""
    schema = ["--builtin-schema", "vendor.compose-spec", "--output-format", "json"]
    run = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        return [f"check-jsonschema did not run ({run.returncode}): {run.stderr.strip()}"]
    problems = [f"{error['path']}: {error['message']}" for error in report.get("errors", [])]
    problems += [str(error) for error in report.get("parse_errors", [])]
    if run.returncode and not problems:
        problems.append(f"check-jsonschema exited {run.returncode}: {run.stderr.strip()}")
    if "version" in (read_yaml(path.read_text(encoding="utf-8")) or {}):
        problems.append("the top-level `version` key is obsolete in the Compose Specification")
    return problems


def setting_name_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """Every SHOP_* name in the compose file (keys, values, `${...}`) and in deploy/example.env
    is a field of core.settings.Settings (SHOP_X → x): a misspelt one would be ignored."""
    named = {m for text in [*strings(raw), *read_env_file()] for m in SETTING.findall(text)}
    return [
        f"{name} is no setting: core/settings.py has no field {name[5:].lower()}"
        for name in sorted(named)
        if name[5:].lower() not in Settings.model_fields
    ]


def secret_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """Every secret setting (SecretStr) of every `shopflow` service, and the password in its
    database URL, is a required variable (`${NAME:?...}`), never a default: a secret left out of
    .env stops `docker compose up` instead of starting the store with a dev one."""
    secrets = [
        f"SHOP_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if field.annotation is SecretStr
    ]
    problems: list[str] = []
    for name, service in shopflow_services(raw).items():
        environment = environment_of(service)
        for variable in [*secrets, "SHOP_DATABASE_URL"]:
            operators = [op for _, op in references(environment.get(variable, ""))]
            if operators != [":?"]:
                problems.append(f"{name}: {variable} holds no one `${{NAME:?...}}` ({operators})")
    return problems


def settings_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """Every `shopflow` service's environment builds the store's Settings in production, so its
    guards pass (no dev secret, no SQLite, secure cookies), listening on every interface."""
    problems: list[str] = []
    for name, service in shopflow_services(interpolate(raw, env)).items():
        try:
            settings = settings_of(service)
        except ValidationError as refused:
            problems.append(f"{name}: {refused}")
            continue
        if settings.environment != "production":
            problems.append(f"{name}: SHOP_ENVIRONMENT is {settings.environment}, not production")
        if settings.host != INSIDE:
            problems.append(f"{name}: SHOP_HOST {settings.host} is unreachable from other services")
    return problems


def command_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """Every store service's command parses: the `shopflow` ones with workers.cli.build_parser,
    the emulators' with their own `main`'s parser."""
    doc = interpolate(raw, env)
    problems: list[str] = []
    for name, service in store_services(doc).items():
        parse = parse_shopflow if name in shopflow_services(doc) else parse_emulator
        try:
            parse(service)
        except (SystemExit, ValueError, ImportError) as refused:
            problems.append(f"{name}: {words(service.get('command'))} refused ({refused})")
    return problems


def served_domains() -> set[str]:
    """The domains with a queue of their own in the split layout: workflows/policies.py's DOMAINS
    and the ones the worker registers activities for (workers/bootstrap.py)."""
    nothing: Any = None  # activities_by_domain only names the functions; nothing is called
    deps = Dependencies(
        engine=None,
        session_factory=nothing,
        mailer=nothing,
        store_url="",
        couriers=nothing,
        bank=nothing,
    )
    return set(activities_by_domain(deps)) | set(DOMAINS)


def queue_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """The split layout is served exactly: one worker service per task queue of
    `Queues(prefix, split=True)`, none serving a queue no workflow routes to (or, with no
    --queue, all of them), and every `shopflow` service, the API that starts the workflows too,
    on that one layout."""
    doc = interpolate(raw, env)
    layouts = {
        n: (s.task_queue_prefix, s.split_task_queues) for n, s in built_settings(doc).items()
    }
    problems = disagree("the task queue layouts (prefix, split)", layouts)
    prefix, split = next(iter(layouts.values()), ("", False))
    if not split:
        problems.append("SHOP_SPLIT_TASK_QUEUES is not true: one worker per queue needs it")
    layout = Queues(prefix, split=True)
    expected = {layout.workflows} | {layout.activities(domain) for domain in served_domains()}
    served: dict[str, list[str]] = {}
    for name, service in running(doc, "worker").items():
        queues = parse_shopflow(service).queue
        if not queues:
            problems.append(f"{name}: a worker without --queue serves every queue")
        for queue in queues:
            served.setdefault(queue, []).append(name)
    problems += [f"no worker service serves {queue}" for queue in sorted(expected - set(served))]
    for queue, names in sorted(served.items()):
        if queue not in expected:
            problems.append(f"{', '.join(names)} serve {queue}, which no workflow routes to")
        elif len(names) > 1:
            problems.append(f"{queue} is served by {len(names)} services: {', '.join(names)}")
    return problems


def dependency_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """The start order: every `depends_on` names a service, waits for `service_healthy` only on
    one with a health check and for `service_completed_successfully` only on a one-shot; the
    API and the workers wait for the migration and the search attributes; every file mounted
    from the work tree exists."""
    doc = interpolate(raw, env)
    everything = services(doc)
    problems: list[str] = []
    for name, service in everything.items():
        for target, condition in depends_on(service).items():
            if target not in everything:
                problems.append(f"{name} depends on {target}, which is no service")
            elif condition == "service_healthy" and "healthcheck" not in everything[target]:
                problems.append(f"{name} waits for {target} to be healthy: it has no health check")
            elif condition == "service_completed_successfully" and (
                str(everything[target].get("restart", "no")) != "no"
            ):
                problems.append(f"{name} waits for {target} to end, but it is restarted")
        problems += [
            f"{name} mounts {source}, which does not exist"
            for source, _ in mounts(service)
            if source.startswith(".") and not (ROOT / source).exists()
        ]
    first = [*running(doc, "migrate"), *_search_attribute_jobs(doc)]
    for name, service in [*running(doc, "api").items(), *running(doc, "worker").items()]:
        waits = depends_on(service)
        problems += [
            f"{name} may start before {job} has completed"
            for job in first
            if waits.get(job) != "service_completed_successfully"
        ]
    if not running(doc, "migrate"):
        problems.append("no service runs `shopflow migrate`")
    return problems


def _search_attribute_jobs(doc: Document) -> dict[str, Service]:
    return {n: s for n, s in services(doc).items() if "SEARCH_ATTRIBUTES" in environment_of(s)}


def cli_type(key: Any) -> str:
    """The `temporal operator search-attribute create --type` of a SearchAttributeKey."""
    return "".join(part.capitalize() for part in key.indexed_value_type.name.split("_"))


def search_attribute_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """The attributes created, the SEARCH_ATTRIBUTES (`Name=Type …`) of the one-shot service
    whose entrypoint runs the mounted script that reads them, are exactly
    workflows.policies.SEARCH_ATTRIBUTES, each with its type."""
    doc = interpolate(raw, env)
    try:
        name, service = the_one(_search_attribute_jobs(doc), "creating SEARCH_ATTRIBUTES")
    except LookupError as missing:
        return [str(missing)]
    pairs = [pair.partition("=") for pair in environment_of(service)["SEARCH_ATTRIBUTES"].split()]
    created = {attribute: kind for attribute, _, kind in pairs}
    expected = {key.name: cli_type(key) for key in SEARCH_ATTRIBUTES}
    problems = [] if created == expected else [f"{name} creates {created}, not {expected}"]
    entrypoint = words(service.get("entrypoint"))
    scripts = [ROOT / source for source, target in mounts(service) if target in entrypoint]
    if not any(s.is_file() and "SEARCH_ATTRIBUTES" in s.read_text("utf-8") for s in scripts):
        problems.append(f"{name}: its entrypoint runs no mounted script reading SEARCH_ATTRIBUTES")
    return problems


def example_env_problems(
    raw: Document, env: Mapping[str, str], example: Mapping[str, str] | None = None
) -> list[str]:
    """deploy/example.env sets every variable the compose file requires and none it does not
    use, and its placeholders are clearly not for production: with them the store's production
    guards refuse to start (`dev-` secrets)."""
    example = read_env_file() if example is None else example
    used = {name for name, _ in references(raw)}
    problems = [
        f"example.env lacks {name}" for name in sorted(required_variables(raw) - {*example})
    ]
    problems += [f"example.env sets {name}, unused" for name in sorted({*example} - used)]
    try:
        doc = interpolate(raw, example)
    except MissingVariable:
        return problems
    problems += [
        f"{name} starts with example.env's placeholders: they must be refused"
        for name, service in shopflow_services(doc).items()
        if _builds(service)
    ]
    return problems


def _builds(service: Service) -> bool:
    """Whether the store would start with the service's environment."""
    try:
        settings_of(service)
    except ValidationError:
        return False
    return True
