"""What a process tells its operators: logs (text for a terminal, JSON lines for a collector, each
carrying the workflow, run and order it is about) and OpenTelemetry traces (exported over OTLP
when an endpoint is set). Metrics live where they are counted: edge/metrics.py for HTTP, the
Temporal runtime's Prometheus endpoint for the worker (workers/worker.py)."""

from __future__ import annotations

import logging
import re
from typing import IO, Any

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from temporalio.contrib.opentelemetry import TracingInterceptor

LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
# Where the Temporal SDK puts a log line's run (workflow.logger, activity.logger `extra`), and the
# names a JSON line gives them.
_RUN_FIELDS = {
    "temporal_workflow": {"workflow_id": "workflow_id", "run_id": "run_id"},
    "temporal_activity": {
        "workflow_id": "workflow_id",
        "workflow_run_id": "run_id",
        "activity_type": "activity",
    },
}


# The runs of one order are named after it (flows/checkout.py, flows/fulfilment.py, the payment
# attempts of workflows/checkout.py): `checkout-{id}`, `delivery-{id}`,
# `payment-order-{id}-v{version}-{attempt}`.
_ORDER_RUN = re.compile(
    r"^(?:checkout|delivery)-([A-Za-z0-9-]+)$|^payment-order-([A-Za-z0-9-]+)-v\d+-\d+$"
)


class RunFields(logging.Filter):
    """Lifts the workflow id, run id and activity of a Temporal log line to fields of their own,
    and the order its run is about, so a log search finds every line of a run and of an order
    (callers may also give `order_id` themselves)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for source, fields in _RUN_FIELDS.items():
            details: Any = getattr(record, source, None)  # left for other handlers to read
            if isinstance(details, dict):
                for key, name in fields.items():
                    if key in details and not hasattr(record, name):
                        setattr(record, name, details[key])
        workflow_id = getattr(record, "workflow_id", None)
        if not hasattr(record, "order_id") and isinstance(workflow_id, str):
            found = _ORDER_RUN.match(workflow_id)
            if found:
                record.order_id = found.group(1) or found.group(2)
        return True


def log_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing to `stream` (stderr) as text, or as JSON lines with the run's fields."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                LOG_FORMAT,
                rename_fields={"levelname": "level", "name": "logger"},
                reserved_attrs=[*RESERVED_ATTRS, *_RUN_FIELDS],  # lifted by RunFields instead
            )
        )
        handler.addFilter(RunFields())
    else:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    return handler


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """The root logger's one handler, on stderr."""
    logging.basicConfig(level=level, handlers=[log_handler(log_format)], force=True)


def tracer_provider(service: str, otlp_endpoint: str) -> TracerProvider | None:
    """A tracer provider exporting this process's spans over OTLP/HTTP, or None when no endpoint
    is set (spans are then not recorded at all)."""
    if not otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    return provider


def temporal_tracing(provider: TracerProvider | None) -> list[TracingInterceptor]:
    """The interceptors that carry a trace through Temporal: a span for each workflow start,
    Update and signal on the client, and for each workflow and activity run on the worker, the
    trace's context travelling in the runs' headers. None without a provider."""
    if provider is None:
        return []
    return [TracingInterceptor(provider.get_tracer("shopflow"))]
