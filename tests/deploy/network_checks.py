"""The deployment's network against the code: health probes on the ports their processes
listen on, the proxy in front of the API replicas, the outside systems (the emulators) where
the store looks for them, one Temporal and one PostgreSQL everyone agrees on. Called like the
checks of checks.py: the file as written and the variables to interpolate it with."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.engine import make_url

from tests.deploy.checks import API_REPLICAS, INSIDE, OUTSIDE, POSTGRES_PORT, TEMPORAL_FRONTEND_PORT
from tests.deploy.compose import (
    NGINX_CONF,
    Document,
    built_settings,
    by_image,
    disagree,
    emulator_port,
    emulators,
    environment_of,
    host_of,
    interpolate,
    mounting,
    mounts,
    port_of,
    probed,
    published_ports,
    running,
    services,
    the_one,
    words,
)


def health_check_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """Every long-running store service has a health check probing the port its process
    listens on: the API on SHOP_API_PORT, a worker its Temporal runtime's metrics on
    SHOP_WORKER_METRICS_PORT, an emulator its own port (the mail emulator's SMTP)."""
    doc = interpolate(raw, env)
    settings = built_settings(doc)
    listening = {name: settings[name].api_port for name in running(doc, "api") if name in settings}
    listening |= {
        name: settings[name].worker_metrics_port
        for name in running(doc, "worker")
        if name in settings
    }
    listening |= {name: emulator_port(args) for name, (_, args) in emulators(doc).items()}
    problems: list[str] = []
    for name, port in listening.items():
        target = probed(services(doc)[name])
        if not port:
            problems.append(f"{name} listens on no port a health check could probe")
        elif (int(target) if target.isdigit() else port_of(target)) != port:
            problems.append(f"{name}: its health check tries {target!r}, it listens on {port}")
    return problems


def proxy_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """The proxy (the service mounting deploy/nginx/shopflow.conf) is the store's one way in: its
    upstream is the API service on SHOP_API_PORT, it listens on the port it publishes and its
    health check tries; the API runs replicas behind it and publishes no port of its own (it
    trusts X-Forwarded-For, which only the proxy may set)."""
    doc = interpolate(raw, env)
    conf = NGINX_CONF.read_text(encoding="utf-8")
    try:
        proxy_name, proxy = the_one(mounting(doc, NGINX_CONF), f"mounting {NGINX_CONF.name}")
        api_name, api = the_one(running(doc, "api"), "running `shopflow api`")
    except LookupError as missing:
        return [str(missing)]
    problems: list[str] = []
    upstream = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", conf, re.MULTILINE)
    api_port = built_settings(doc)[api_name].api_port if api_name in built_settings(doc) else None
    if upstream != [(api_name, str(api_port))]:
        problems.append(f"the proxy's upstream {upstream} is not {api_name}:{api_port}")
    listens = {int(port) for port in re.findall(r"^\s*listen\s+(\d+)", conf, re.MULTILINE)}
    published = {target for _, target in published_ports(proxy)}
    if not published or published != listens:
        problems.append(f"{proxy_name} publishes {published}, nginx listens on {listens}")
    if port_of(probed(proxy)) not in listens:
        problems.append(f"{proxy_name}'s health check {probed(proxy)!r} misses nginx")
    if api.get("ports"):
        problems.append(f"{api_name} publishes {api['ports']}: only the proxy may reach it")
    replicas = int((api.get("deploy") or {}).get("replicas", 1))
    if replicas < API_REPLICAS:
        problems.append(f"{api_name} runs {replicas} replica(s), not {API_REPLICAS} or more")
    return problems


def outside_system_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """The store reaches each emulator where it listens (SHOP_SMTP_HOST/PORT, SHOP_SMS_URL,
    SHOP_COURIERS_URL, SHOP_BANK_URL name its service and port), each listens on every interface
    of its container, and shares the store's keys (the SMS API key, the bank's callback secret)."""
    doc = interpolate(raw, env)
    parsed = {module: (name, args) for name, (module, args) in emulators(doc).items()}
    problems = [f"no service runs emulators.{module}" for module in OUTSIDE if module not in parsed]
    problems += [
        f"{name} listens on {args.host}, not {INSIDE}"
        for name, args in parsed.values()
        if args.host != INSIDE
    ]
    for store_name, s in built_settings(doc).items():
        reached = {
            "mail": (s.smtp_host, s.smtp_port),
            "sms": (host_of(s.sms_url), port_of(s.sms_url)),
            "couriers": (host_of(s.couriers_url), port_of(s.couriers_url)),
            "bank": (host_of(s.bank_url), port_of(s.bank_url)),
        }
        for module, (name, args) in parsed.items():
            listens = (name, emulator_port(args))
            if module in reached and reached[module] != listens:
                where = f"{module} at {reached[module]}, not {listens}"
                problems.append(f"{store_name} reaches {where}")
        keys = {
            "sms": ("api_key", s.sms_api_key.get_secret_value()),
            "bank": ("callback_secret", s.bank_callback_secret.get_secret_value()),
        }
        for module, (option, value) in keys.items():
            if module in parsed and getattr(parsed[module][1], option) != value:
                flag = option.replace("_", "-")
                problems.append(f"{parsed[module][0]}'s --{flag} is not {store_name}'s")
    return problems


def temporal_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """Everything that talks to Temporal (the store, the search attributes job, the UI, the
    server's own tools) names the one Temporal service at its frontend port and the one
    namespace, the one auto-setup creates and the health check waits for; the store's links to
    the UI use the port the UI is published on."""
    doc = interpolate(raw, env)
    try:
        name, temporal = the_one(by_image(doc, "temporalio/auto-setup:"), "temporalio/auto-setup")
        ui_name, ui = the_one(by_image(doc, "temporalio/ui:"), "temporalio/ui")
    except LookupError as missing:
        return [str(missing)]
    port = int(environment_of(temporal).get("FRONTEND_GRPC_PORT", TEMPORAL_FRONTEND_PORT))
    settings = built_settings(doc)
    addresses = {n: s.temporal_address for n, s in settings.items()}
    namespaces: dict[str, str] = {n: s.temporal_namespace for n, s in settings.items()}
    for other, service in services(doc).items():
        environment = environment_of(service)
        if "TEMPORAL_ADDRESS" in environment:
            addresses[other] = environment["TEMPORAL_ADDRESS"]
        for key in ("DEFAULT_NAMESPACE", "TEMPORAL_NAMESPACE", "TEMPORAL_DEFAULT_NAMESPACE"):
            if key in environment:
                namespaces[f"{other} {key}"] = environment[key]
    test = words((temporal.get("healthcheck") or {}).get("test"))
    if "--namespace" in test:
        namespaces[f"{name}'s health check"] = test[test.index("--namespace") + 1]
    else:
        namespaces[f"{name}'s health check"] = "(no --namespace: not the store's namespace)"
    problems = disagree("the Temporal addresses", addresses)
    problems += disagree("the Temporal namespaces", namespaces)
    problems += [
        f"{who} reaches Temporal at {address}, not {name}:{port}"
        for who, address in addresses.items()
        if (host_of(address), port_of(address)) != (name, port)
    ]
    ui_ports = {int(published) for published, _ in published_ports(ui) if published}
    problems += [
        f"{who}'s SHOP_TEMPORAL_UI_PORT {s.temporal_ui_port}: {ui_name} is published on {ui_ports}"
        for who, s in settings.items()
        if s.temporal_ui_port not in ui_ports
    ]
    return problems


def database_problems(raw: Document, env: Mapping[str, str]) -> list[str]:
    """The store's SHOP_DATABASE_URL is the PostgreSQL service's database, user and password, and
    so is what Temporal's auto-setup connects with (its own two databases, not the store's); the
    database keeps its data on a named volume and has a pg_isready health check."""
    doc = interpolate(raw, env)
    try:
        name, postgres = the_one(by_image(doc, "postgres:"), "postgres")
        _, temporal = the_one(by_image(doc, "temporalio/auto-setup:"), "temporalio/auto-setup")
    except LookupError as missing:
        return [str(missing)]
    db = environment_of(postgres)
    server = (name, POSTGRES_PORT, db.get("POSTGRES_USER"), db.get("POSTGRES_PASSWORD"))
    problems: list[str] = []
    for store_name, s in built_settings(doc).items():
        url = make_url(s.database_url)
        reached = (url.host, url.port or POSTGRES_PORT, url.username, url.password)
        if (reached, url.database) != (server, db.get("POSTGRES_DB")):
            problems.append(f"{store_name}'s SHOP_DATABASE_URL is not {name}'s database")
    t = environment_of(temporal)
    seeds, user, password = t.get("POSTGRES_SEEDS"), t.get("POSTGRES_USER"), t.get("POSTGRES_PWD")
    if t.get("DB") != "postgres12" or (seeds, int(t.get("DB_PORT", 0)), user, password) != server:
        problems.append(f"Temporal's database settings do not reach {name} as its user")
    if db.get("POSTGRES_DB") in {t.get("DBNAME", "temporal"), t.get("VISIBILITY_DBNAME")}:
        problems.append("Temporal's databases must not be the store's")
    volumes = set(doc.get("volumes") or {})
    if not any(source in volumes for source, target in mounts(postgres) if "postgresql" in target):
        problems.append(f"{name} keeps its data on no named volume")
    if "pg_isready" not in words((postgres.get("healthcheck") or {}).get("test")):
        problems.append(f"{name} has no pg_isready health check")
    return problems
