"""Task queues, timeouts, retry policies, search attributes and outcome metrics shared by
workflows and workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

from models.payloads import Queues

# The domains whose activities get a task queue of their own in the split layout
# (models.payloads.Queues: `{prefix}-{domain}`); in the default layout all share one queue.
AUTH = "auth"
BILLING = "billing"
PAYMENT = "payment"
NOTIFICATION = "notification"
ORDER = "order"
STORE = "store"
DELIVERY = "delivery"
DOMAINS = (AUTH, BILLING, PAYMENT, NOTIFICATION, ORDER, STORE, DELIVERY)

# Operators find runs by these in the Temporal UI (registered by `shopflow dev`).
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
FLOW_STATUS = SearchAttributeKey.for_keyword("FlowStatus")
PAYMENT_METHOD = SearchAttributeKey.for_keyword("PaymentMethod")
SEARCH_ATTRIBUTES = (CUSTOMER_ID, ORDER_ID, FLOW_STATUS, PAYMENT_METHOD)

# Counters of how runs end, by the workflow that decides it; the worker's Temporal runtime serves
# them to Prometheus beside the SDK's own metrics (workers/worker.py: metrics_runtime).
OUTCOME_METRICS = {
    "checkout": "Checkouts ended, by outcome (PAID, FAILED, EXPIRED, BACK_TO_CART)",
    "payment": "Payment attempts ended, by method, purpose and status",
}


def count_outcome(flow: str, **labels: str) -> None:
    """One more run of `flow` ended as `labels` say: `shopflow_<flow>_outcomes` + 1. Not counted
    again when the run is replayed."""
    name = f"shopflow_{flow}_outcomes"
    workflow.metric_meter().create_counter(name, OUTCOME_METRICS[flow]).add(1, labels)


DOMAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)


@dataclass(frozen=True)
class StepPolicy:
    """How long one kind of step may take and how it is retried."""

    start_to_close: timedelta
    schedule_to_close: timedelta
    retry: RetryPolicy = field(default_factory=lambda: DOMAIN_RETRY)

    def options(self, queues: Queues, domain: str) -> dict[str, Any]:
        """For `execute_activity`: the domain's queue in the run's layout."""
        return {"task_queue": queues.activities(domain), **self.local()}

    def local(self) -> dict[str, Any]:
        """For `execute_local_activity`: run in the workflow's worker, recorded as one marker."""
        return {
            "start_to_close_timeout": self.start_to_close,
            "schedule_to_close_timeout": self.schedule_to_close,
            "retry_policy": self.retry,
        }


# A database step: seconds each, retried for up to ten minutes while infrastructure recovers.
DB_STEP = StepPolicy(start_to_close=timedelta(seconds=30), schedule_to_close=timedelta(minutes=10))
# An undo must eventually happen: retried for a day.
COMPENSATION = StepPolicy(start_to_close=timedelta(seconds=30), schedule_to_close=timedelta(days=1))
# Mail waits out an SMTP outage for a day; the business outcome does not depend on it.
MAIL_STEP = StepPolicy(start_to_close=timedelta(seconds=30), schedule_to_close=timedelta(days=1))

# A quote asks outside courier companies: a few seconds, a few tries, then the shopper is told.
QUOTE_STEP = StepPolicy(
    start_to_close=timedelta(seconds=10),
    schedule_to_close=timedelta(seconds=30),
    retry=RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=3),
)

REGISTRATION_TIMEOUT = timedelta(days=2)
CHECKOUT_TIMEOUT = timedelta(days=2)
PURCHASE_TIMEOUT = timedelta(days=2)

# A call to the bank: it is idempotent by key, so a timeout or a crash is retried (reaching the
# same payment) for up to ten minutes; a decline is an answer, not an error.
BANK_STEP = DB_STEP
