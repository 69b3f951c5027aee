"""Bank emulator: card acquiring and СБП fast payments, as an outside bank would offer them.

For development and tests:
`python -m emulators.bank --host 127.0.0.1 --port 8100 --callback-secret SECRET`.

The bank hosts the card form, so card numbers and CVCs never reach the merchant: the merchant makes
a payment, sends the buyer to `confirmationUrl`, and learns the outcome from a signed callback or by
polling. Amounts are integer kopecks; errors are `{"errorMessage": ...}` with 400, 404 or 409.

    POST /api/payments                 {amountKopecks, idempotencyKey, description, returnUrl,
                                        callbackUrl, method: CARD|SBP, bindCard, customerRef}
                                       → payment (PENDING, with confirmationUrl); the same
                                         idempotencyKey answers the same payment, 409 if the
                                         body differs
    GET  /api/payments/{id}            → {paymentId, status, method, amountKopecks, refundedKopecks,
                                          declineReason, card: {token, masked, expiry} | null,
                                          confirmationUrl}
    POST /api/tokens/{token}/charge    {amountKopecks, idempotencyKey, description, callbackUrl}
                                       → payment, SUCCEEDED or DECLINED at once
    POST /api/payments/{id}/refunds    {amountKopecks, idempotencyKey} → {refundId, paymentId,
                                        amountKopecks, status, paymentStatus, refundedKopecks};
                                        409 beyond what is left of the payment
    GET  /pay/{id}                     card form, or the СБП QR code, or the result
    GET  /sbp/{id}/app                 the buyer's «bank app»: Подтвердить / Отклонить
    POST /admin/callbacks              {duplicate, delayMs, reorder} (replaces the whole setting)
    POST /admin/callbacks/hold|release hold callbacks back / send the held ones
    GET  /admin/callbacks/log          every delivery attempt and its answer (?paymentId=)
    DELETE /admin/callbacks            defaults, nothing held, empty log, pending deliveries dropped
    POST /admin/tokens                 {cardNumber, expiry, customerRef} → {token, masked, expiry}:
                                       a card saved in some earlier session (test set-up only)
    POST /admin/latency                {chargeMs}: answer token charges this much later (the
                                       charge itself is made at once)
    GET  /admin/payments?customerRef=  every payment of a customer (test checks)
    GET  /healthz

Test cards (any expiry not in the past, any three-digit CVC): 4111 1111 1111 1111 succeeds,
4000 0000 0000 0002 is declined, 4000 0000 0000 9995 has insufficient funds, 4000 0000 0000 3220
asks for a 3-D Secure code (1234 passes, anything else declines); any other Luhn-valid number
succeeds. Saved cards (tokens) keep their card's behaviour, except that a server-to-server charge
asks no 3-D Secure code.

Callbacks: every status change (paid, declined, each refund) is POSTed as JSON `{paymentId, status,
amountKopecks, refundedKopecks, eventId, occurredAt}` to the payment's callbackUrl, signed with
`X-Bank-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, and retried with exponential backoff
until a 2xx answer (`--callback-attempts` tries). Duplicates carry the same eventId. With `reorder`,
events are gathered for `delayMs` (1 s if 0) and then sent newest first; held events are released
newest first too.

Made of: `bank_models` (request bodies, records, test-card rules), `bank_core` (the books),
`bank_callbacks` (the notifier), `bank_app` (the routes) and `bank_pages` (the buyer's pages).
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from emulators.bank_app import create_app
from emulators.bank_models import log

__all__ = ["create_app", "main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--callback-secret", required=True, help="HMAC key for X-Bank-Signature")
    parser.add_argument(
        "--public-url", help="base URL buyers' browsers reach the bank at (default: host and port)"
    )
    parser.add_argument("--callback-retry-ms", type=int, default=1000, help="first retry delay")
    parser.add_argument("--callback-attempts", type=int, default=10)
    args = parser.parse_args(argv)
    if not args.callback_secret:
        parser.error("--callback-secret must not be empty")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bank %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    log.info("bank on http://%s:%s, pages at %s", args.host, args.port, public_url)
    app = create_app(
        callback_secret=args.callback_secret,
        public_url=public_url,
        retry_base_s=args.callback_retry_ms / 1000,
        attempts=max(1, args.callback_attempts),
    )
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=2
    )


if __name__ == "__main__":
    main()
