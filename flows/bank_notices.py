"""The bank's signed callback, delivered: only a correct HMAC of the raw body is read; the notice
wakes the payment run it names (which then asks the bank), or, once that run gave up, the run
that refunds late payments."""

from __future__ import annotations

import logging
import re

from temporalio.service import RPCError

from adapters.bank import parse_callback, verify_callback
from core.errors import AuthError, ValidationError
from flows.engine import TemporalClient, not_found
from models.payloads import BankNotice, bank_status
from workflows.refs import LateBankPayment, Payment, SignalRef

log = logging.getLogger(__name__)

FLOW_ID = re.compile(r"payment-[a-z]+-[\w-]{1,80}-\d{1,4}", re.ASCII)
PAYMENT_ID = re.compile(r"[\w-]{1,80}", re.ASCII)  # the bank's id; it names a workflow run


def late_workflow_id(payment_id: str) -> str:
    return f"bank-late-{payment_id}"


async def deliver_bank_notice(
    temporal: TemporalClient, *, body: bytes, signature: str, secret: str, flow: str
) -> str:
    """Check and read the callback and signal the run waiting for it: its workflow id, or ""
    when no run waits any more (the bank is still told it was received)."""
    if not verify_callback(body, signature, secret):
        raise AuthError("Неверная подпись уведомления банка")
    try:
        notice = parse_callback(body)
    except (RecursionError, OverflowError) as exc:  # nested too deep; Infinity as an amount
        raise ValidationError("Неверное уведомление банка") from exc
    if not PAYMENT_ID.fullmatch(notice.payment_id) or len(notice.event_id) > 200:
        raise ValidationError("Неверное уведомление банка", fields={"paymentId": "неверный id"})
    if not FLOW_ID.fullmatch(flow):
        raise ValidationError("Неизвестный получатель уведомления", fields={"flow": flow})
    signal = BankNotice(notice.payment_id, bank_status(notice.status), notice.event_id)
    targets = (
        (flow, Payment.bank_callback),
        (late_workflow_id(notice.payment_id), LateBankPayment.bank_callback),
    )
    for target, ref in targets:
        if await _signal(temporal, target, ref, signal):
            return target
    log.info("bank callback %s for %s: no run waits for it", notice.event_id, notice.payment_id)
    return ""


async def _signal(
    temporal: TemporalClient, workflow_id: str, ref: SignalRef[BankNotice], notice: BankNotice
) -> bool:
    """Signal the run if it is still running; False if it is closed or never existed."""
    try:
        await temporal.get_workflow_handle(workflow_id).signal(ref.name, notice)
    except RPCError as exc:
        if not_found(exc):
            return False
        raise
    return True
