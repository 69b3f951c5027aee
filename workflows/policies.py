"""Task queues, timeouts, retry policies and search attributes shared by workflows and workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy, SearchAttributeKey

# Workflows run on one queue; each domain's activities on their own, so each can scale apart.
WORKFLOW_QUEUE = "shopflow-flows"
AUTH_QUEUE = "shopflow-auth"
BILLING_QUEUE = "shopflow-billing"
PAYMENT_QUEUE = "shopflow-payment"
NOTIFICATION_QUEUE = "shopflow-notification"
ORDER_QUEUE = "shopflow-order"
STORE_QUEUE = "shopflow-store"
DELIVERY_QUEUE = "shopflow-delivery"
ACTIVITY_QUEUES = (
    AUTH_QUEUE,
    BILLING_QUEUE,
    PAYMENT_QUEUE,
    NOTIFICATION_QUEUE,
    ORDER_QUEUE,
    STORE_QUEUE,
    DELIVERY_QUEUE,
)

# Operators find runs by these in the Temporal UI (registered by `shopflow dev`).
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
FLOW_STATUS = SearchAttributeKey.for_keyword("FlowStatus")
PAYMENT_METHOD = SearchAttributeKey.for_keyword("PaymentMethod")
SEARCH_ATTRIBUTES = (CUSTOMER_ID, ORDER_ID, FLOW_STATUS, PAYMENT_METHOD)

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

    def options(self, task_queue: str) -> dict[str, Any]:
        return {
            "task_queue": task_queue,
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

# A call to the bank: it is idempotent by key, so a timeout or a crash is retried (reaching the
# same payment) for up to ten minutes; a decline is an answer, not an error.
BANK_STEP = DB_STEP
