"""The store's error hierarchy. Every domain failure a user or caller can act on is one of these.

    DomainError (code, retryable=False, http_status)
    ├── ValidationError          400  input is malformed or incomplete
    │   ├── MailRejectedError         the mail server refused the address for good (5xx reply)
    │   └── SmsRejectedError          the SMS provider refused the number or text for good
    ├── AuthError                401  no valid session or wrong credentials
    ├── ForbiddenError           403  authenticated but not allowed
    ├── NotFoundError            404  the thing asked for does not exist (for this caller)
    └── ConflictError            409  the request clashes with the current state
        ├── AlreadyExistsError        a unique thing (username, e-mail) is taken
        ├── StaleVersionError         optimistic lock: the object changed meanwhile
        ├── OutOfStockError           not enough units to reserve
        ├── InsufficientFundsError    a balance would go below zero
        ├── PaymentDeclinedError      the bank said no
        └── OperationInFlightError    a twin request with the same key is not finished yet
                                      (retryable: the retry finds the twin's result)
    TooManyAttemptsError         429  too many failed tries (wrong gift card codes): wait
                                      `retry_after_seconds`; raised only in services the edge calls
                                      directly, never across Temporal (not in ALL_ERRORS)
    UnavailableError             503  a service we depend on is down (retryable)

Infrastructure failures (database down, SMTP unreachable) are not DomainErrors: they propagate, and
Temporal's retry policy or the API's 503 handler deals with them.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    code = "DomainError"
    http_status = 400
    retryable = False

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})


class ValidationError(DomainError):
    code = "ValidationError"
    http_status = 400


class MailRejectedError(ValidationError):
    """A permanent SMTP refusal (a 5xx reply): retrying the same mail cannot succeed."""

    code = "MailRejectedError"


class SmsRejectedError(ValidationError):
    """A permanent refusal by the SMS provider (a number it will not serve, a bad number or text):
    retrying the same SMS cannot succeed."""

    code = "SmsRejectedError"


class AuthError(DomainError):
    code = "AuthError"
    http_status = 401


class ForbiddenError(DomainError):
    code = "ForbiddenError"
    http_status = 403


class NotFoundError(DomainError):
    code = "NotFoundError"
    http_status = 404


class ConflictError(DomainError):
    code = "ConflictError"
    http_status = 409


class AlreadyExistsError(ConflictError):
    code = "AlreadyExistsError"


class StaleVersionError(ConflictError):
    code = "StaleVersionError"


class OutOfStockError(ConflictError):
    code = "OutOfStockError"


class InsufficientFundsError(ConflictError):
    code = "InsufficientFundsError"


class PaymentDeclinedError(ConflictError):
    code = "PaymentDeclinedError"


class OperationInFlightError(ConflictError):
    code = "OperationInFlightError"
    retryable = True


class TooManyAttemptsError(DomainError):
    """Refused until `retry_after_seconds` have passed, whatever the request says (a correct
    answer too: otherwise the refusal would be a hint)."""

    code = "TooManyAttemptsError"
    http_status = 429

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: int,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, fields=fields)
        self.retry_after_seconds = retry_after_seconds


class UnavailableError(DomainError):
    code = "UnavailableError"
    http_status = 503
    retryable = True


ALL_ERRORS: tuple[type[DomainError], ...] = (
    DomainError,
    ValidationError,
    MailRejectedError,
    SmsRejectedError,
    AuthError,
    ForbiddenError,
    NotFoundError,
    ConflictError,
    AlreadyExistsError,
    StaleVersionError,
    OutOfStockError,
    InsufficientFundsError,
    PaymentDeclinedError,
    OperationInFlightError,
    UnavailableError,
)


def error_class(code: str) -> type[DomainError]:
    """The error class for a code carried across a process boundary (e.g. a Temporal failure)."""
    return next((cls for cls in ALL_ERRORS if cls.code == code), DomainError)
