"""The one reading of Temporal failures: domain errors found anywhere in the chain, anything else
never shown as it is."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from core.errors import ALL_ERRORS, OutOfStockError, UnavailableError
from flows.engine import domain_error
from workflows.failures import DOMAIN_CODES, failure_of, message_of


def _in_activity(cause: BaseException) -> ActivityError:
    error = ActivityError(
        "Activity task failed",
        scheduled_event_id=1,
        started_event_id=2,
        identity="w",
        activity_type="store.hold_stock",
        activity_id="1",
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    error.__cause__ = cause
    return error


def test_the_domain_codes_are_core_errors_codes() -> None:
    assert {cls.code for cls in ALL_ERRORS} == DOMAIN_CODES


def test_a_domain_error_is_found_through_an_activity_error() -> None:
    refused = ApplicationError("Нет в наличии", {"item": "1"}, type="OutOfStockError")
    found = failure_of(_in_activity(refused))
    assert (found.code, found.message, found.fields) == (
        "OutOfStockError",
        "Нет в наличии",
        {"item": "1"},
    )
    mapped = domain_error(_in_activity(refused))
    assert isinstance(mapped, OutOfStockError)
    assert mapped.fields == {"item": "1"}


def test_a_wrapped_python_exception_is_never_shown() -> None:
    raw = ApplicationError(
        "Python int too large to convert to SQLite INTEGER", type="OverflowError"
    )
    assert message_of(_in_activity(raw), "Сервис недоступен") == "Сервис недоступен"
    assert "SQLite" not in domain_error(raw).message


def test_an_engine_failure_without_a_domain_error_gets_the_default() -> None:
    found = failure_of(RuntimeError("Workflow Update failed because the Workflow completed"))
    assert not found.domain
    assert "Workflow" not in found.message
    assert UnavailableError.code == found.code
