"""The `shopflow` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import DomainError
from core.settings import Settings
from core.telemetry import configure_logging

T = TypeVar("T")

# Requests in flight at shutdown may be waiting on a workflow (registration up to 15 s, checkout
# Updates up to 20 s); uvicorn would wait for them without limit. Well inside the dev
# supervisor's stop bound (workers/processes.py: STOP_BOUND_SECONDS).
API_GRACEFUL_SHUTDOWN_SECONDS = 3


def _api(settings: Settings) -> int:
    import uvicorn

    from edge.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.api_port,
        log_level="info",
        log_config=None,  # uvicorn's lines through the root handler: text or JSON as set
        access_log=settings.access_log,
        timeout_graceful_shutdown=API_GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


def _worker(settings: Settings, queues: list[str]) -> int:
    from workers.worker import run_worker

    asyncio.run(run_worker(settings, queues or None))
    # Every worker has shut down and the engine is disposed: nothing is left to flush but logs.
    # Skip interpreter teardown, where the SDK's Rust threads can still hold Python state and abort
    # with "PyGILState_Release: thread state must be current" (temporalio/sdk-python#300).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _dev(settings: Settings) -> int:
    try:
        from workers.dev import run_dev
    except KeyboardInterrupt:
        return 130  # Ctrl-C before anything started; from here on the supervisor takes it
    code = run_dev(settings)
    # Every child has stopped and is reaped. Skip interpreter teardown: freeing SQLAlchemy,
    # Alembic and the Temporal SDK's modules took ≈0.8 s, the prompt came back that much later.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _migrate(settings: Settings) -> int:
    from workers.migrate import upgrade

    upgrade(settings.database_url)
    return 0


def _seed(settings: Settings, products: int | None) -> int:
    from workers.migrate import upgrade
    from workers.seed import SAMPLE_PRODUCTS, seed_catalog_at

    upgrade(settings.database_url)
    report = asyncio.run(
        seed_catalog_at(settings.database_url, products=products or SAMPLE_PRODUCTS, progress=True)
    )
    if report.skipped:
        logging.getLogger("shopflow.seed").info(
            "catalogue already loaded (%s stores)", report.stores
        )
    else:
        logging.getLogger("shopflow.seed").info(
            "loaded %s products into %s stores in %.1f s",
            report.products,
            report.stores,
            report.seconds,
        )
    return 0


def _dev_only(settings: Settings, command: str) -> None:
    if settings.environment == "production":
        raise SystemExit(f"shopflow {command} is a development tool; refused in production")


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured database."""
    from core.db import create_engine, create_session_factory, transaction

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with transaction(create_session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _credit(settings: Settings, username: str, roubles: str) -> int:
    """Development only: put money into a wallet through billing (logged like any credit)."""
    import uuid

    from core.money import format_roubles, to_kopecks
    from services import billing

    _dev_only(settings, "credit")

    async def credit(session: AsyncSession) -> int:
        entry = await billing.credit_wallet(
            session=session,
            username=username,
            amount_kopecks=to_kopecks(roubles),
            idempotency_key=f"dev-credit-{uuid.uuid4()}",
            reference="dev:shopflow credit",
        )
        return entry.balance_after_kopecks

    balance = _in_transaction(settings, credit)
    logging.getLogger("shopflow.credit").info("%s: balance %s", username, format_roubles(balance))
    return 0


def _operator(settings: Settings, username: str) -> int:
    """Make a registered user an operator (the operators' area): how an operator account is
    made, so allowed in every environment."""
    from services import auth

    async def grant(session: AsyncSession) -> str:
        return (await auth.grant_operator(session=session, username=username)).role

    role = _in_transaction(settings, grant)
    logging.getLogger("shopflow.operator").info("%s: role %s", username, role)
    return 0


def _giftcard(settings: Settings, roubles: str) -> int:
    """Development only: issue an unbound gift card and print its activation code (the purchase
    flow mails it to the recipient instead)."""
    import uuid

    from core.money import format_roubles, to_kopecks
    from services import billing

    _dev_only(settings, "giftcard")
    amount = to_kopecks(roubles)

    async def issue(session: AsyncSession) -> str:
        _, code = await billing.issue_gift_card(
            session=session,
            amount_kopecks=amount,
            issue_key=f"dev-giftcard-{uuid.uuid4()}",
            secret=settings.gift_card_secret.get_secret_value(),
        )
        return billing.format_code(code)

    code = _in_transaction(settings, issue)
    print(f"Код активации подарочной карты на {format_roubles(amount)}: {code}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The `shopflow` command line: every subcommand and its arguments (what `main` parses; the
    deployment's tests check docker-compose.yml's commands against it)."""
    parser = argparse.ArgumentParser(prog="shopflow", description="Shopflow online store")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the whole store in the foreground (Ctrl-C stops it)")
    commands.add_parser("api", help="run the API and web front")
    worker = commands.add_parser("worker", help="run the Temporal worker")
    worker.add_argument("--queue", action="append", default=[], help="serve only this task queue")
    commands.add_parser("migrate", help="bring the database schema up to date")
    seed = commands.add_parser("seed", help="load the sample catalogue into an empty database")
    seed.add_argument("--products", type=int, help="generate this many products (benchmarks)")
    credit = commands.add_parser("credit", help="development: put roubles into a wallet")
    credit.add_argument("username")
    credit.add_argument("roubles")
    operator = commands.add_parser("operator", help="make a registered user an operator")
    operator.add_argument("username")
    giftcard = commands.add_parser(
        "giftcard", help="development: issue a gift card and print its activation code"
    )
    giftcard.add_argument("roubles")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    settings = Settings()
    configure_logging(settings.log_format)
    if args.command == "dev":
        return _dev(settings)
    if args.command == "api":
        return _api(settings)
    if args.command == "worker":
        return _worker(settings, args.queue)
    try:
        if args.command == "credit":
            return _credit(settings, args.username, args.roubles)
        if args.command == "operator":
            return _operator(settings, args.username)
        if args.command == "giftcard":
            return _giftcard(settings, args.roubles)
    except (DomainError, ValueError) as exc:
        raise SystemExit(f"shopflow {args.command}: {exc}") from None
    if args.command == "seed":
        return _seed(settings, args.products)
    return _migrate(settings)


if __name__ == "__main__":
    raise SystemExit(main())
