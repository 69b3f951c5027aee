"""The edge's Temporal client, connected on first use so the API starts even while Temporal boots;
the one mapping of a Temporal failure to a domain error; the bound on every wait for a run.

The edge (api, web) holds the client as an opaque `TemporalClient` and hands it to the flows;
only the flows call it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from temporalio.client import (
    Client,
    Interceptor,
    RPCTimeoutOrCancelledError,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from core.errors import ConflictError, DomainError, UnavailableError, error_class
from core.settings import Settings
from models.payloads import Queues
from workflows.failures import failure_of
from workflows.refs import QueryRef, UpdateRef

T = TypeVar("T")
In = TypeVar("In")
Out = TypeVar("Out")

TemporalClient = Client
# Temporal itself failed (unreachable, refused): the edge answers 503.
EngineError = RPCError


class LazyTemporalClient:
    def __init__(
        self, address: str, namespace: str, interceptors: Sequence[Interceptor] = ()
    ) -> None:
        self._address = address
        self._namespace = namespace
        self._interceptors = list(interceptors)  # e.g. tracing: spans of each start and Update
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def of(cls, client: Client) -> LazyTemporalClient:
        """Wrap an already connected client (tests)."""
        lazy = cls(client.service_client.config.target_host, client.namespace)
        lazy._client = client
        return lazy

    async def __call__(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await Client.connect(
                        self._address, namespace=self._namespace, interceptors=self._interceptors
                    )
                except RuntimeError as exc:
                    raise UnavailableError(
                        "Сервис временно недоступен, попробуйте через минуту"
                    ) from exc
            return self._client


def domain_error(exc: BaseException, default: str = "Действие сейчас недоступно") -> DomainError:
    """The domain error a workflow, Update or activity failed with (workflows.failures reads the
    chain); a failure that carries none becomes a ConflictError with `default`, never the
    engine's own text."""
    found = failure_of(exc, default)
    if not found.domain:
        return ConflictError(default)
    return error_class(found.code)(found.message, fields=found.fields)


async def bounded(call: Awaitable[T], seconds: float) -> T:
    """Wait on the engine at most `seconds`: a worker outage answers 503, it never hangs."""
    try:
        return await asyncio.wait_for(call, timeout=seconds)
    except (TimeoutError, RPCTimeoutOrCancelledError) as exc:
        # The SDK answers the cancelled wait of an Update with its own error, not TimeoutError.
        raise UnavailableError(NO_ANSWER) from exc


NO_ANSWER = "Магазин сейчас не успевает ответить: обновите страницу через минуту"


def queues_of(settings: Settings) -> Queues:
    """The task queue layout new runs start with."""
    return Queues(settings.task_queue_prefix, settings.split_task_queues)


def not_found(exc: RPCError) -> bool:
    """The run (or the workflow id) does not exist."""
    return exc.status == RPCStatusCode.NOT_FOUND


async def query(
    temporal: TemporalClient, workflow_id: str, ref: QueryRef[Out], seconds: float
) -> Out | None:
    """The run's answer to `ref`, bounded; None when there is no such run."""
    try:
        return await bounded(
            temporal.get_workflow_handle(workflow_id).query(ref.name, result_type=ref.result),
            seconds,
        )
    except RPCError as exc:
        if not_found(exc):
            return None
        raise


async def update(
    temporal: TemporalClient,
    workflow_id: str,
    ref: UpdateRef[In, Out],
    arg: In,
    *,
    seconds: float,
    ended: str,
) -> Out:
    """One Update of the running flow, bounded; its refusal as the domain error, and a run that
    has ended as ConflictError(`ended`)."""
    args = [] if ref.arg is None else [arg]
    try:
        return await bounded(
            temporal.get_workflow_handle(workflow_id).execute_update(
                ref.name, args=args, result_type=ref.result
            ),
            seconds,
        )
    except WorkflowUpdateFailedError as exc:
        raise domain_error(exc) from exc
    except RPCError as exc:
        if not_found(exc):
            raise ConflictError(ended) from exc
        raise
