"""One reading of a Temporal failure, for workflows and for the edge alike: the domain error it
carries (an ApplicationError typed by the error's code, raised by an activity or a workflow),
found anywhere in its cause chain, or none — then it was the engine or the infrastructure, and
its own text is never shown to a shopper."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.exceptions import ActivityError, ApplicationError, FailureError

# How a step that failed for good reaches the workflow: an ActivityError around the cause for an
# ordinary activity; a local activity's non-retryable failure may come as the ApplicationError
# itself.
STEP_FAILURES = (ActivityError, ApplicationError)

# The codes of core.errors' domain errors (workflows may not import core; a unit test holds the
# two equal). Any other ApplicationError type is a Python exception the SDK wrapped: its text is
# never shown.
DOMAIN_CODES = frozenset(
    {
        "DomainError",
        "ValidationError",
        "MailRejectedError",
        "SmsRejectedError",
        "AuthError",
        "ForbiddenError",
        "NotFoundError",
        "ConflictError",
        "AlreadyExistsError",
        "StaleVersionError",
        "OutOfStockError",
        "InsufficientFundsError",
        "PaymentDeclinedError",
        "OperationInFlightError",
        "UnavailableError",
    }
)

UNAVAILABLE = "Сервис временно недоступен, попробуйте ещё раз"


@dataclass(frozen=True)
class Failure:
    """What to tell the caller: the domain error's code, message and per-field messages."""

    code: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    domain: bool = True  # False: no domain error in the chain (the message is a stand-in)


def application_error(exc: BaseException | None) -> ApplicationError | None:
    """The first domain error (an ApplicationError typed by a domain code) in the chain:
    Temporal's `cause`s, then Python's."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ApplicationError) and exc.type in DOMAIN_CODES:
            return exc
        nested = exc.cause if isinstance(exc, FailureError) else None
        exc = nested or exc.__cause__
    return None


def failure_of(exc: BaseException, default: str = UNAVAILABLE) -> Failure:
    found = application_error(exc)
    if found is None or found.type is None:
        return Failure("UnavailableError", default, domain=False)
    details = found.details[0] if found.details and isinstance(found.details[0], dict) else {}
    fields = {str(key): str(value) for key, value in details.items()}
    return Failure(found.type, found.message, fields)


def message_of(exc: BaseException, default: str = UNAVAILABLE) -> str:
    """The domain error's message, or `default` when the failure was not a domain error."""
    return failure_of(exc, default).message


def business_failure(exc: BaseException) -> ApplicationError:
    """The ApplicationError to end a workflow with, keeping the domain error's type and fields."""
    found = failure_of(exc, "Операция не выполнена")
    code = found.code if found.domain else "InternalError"
    return ApplicationError(found.message, found.fields, type=code, non_retryable=True)
