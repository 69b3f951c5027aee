"""PaymentWorkflow `payment-{purpose}-{id}-{attempt}`: one attempt to take money for an order,
a gift card or a top-up, by the chosen method; the shopper gets the result by mail either way."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from models.payloads import PaymentInput, PaymentResult, ResultMailInput, WalletMoveInput
from workflows.policies import (
    BILLING_QUEUE,
    DB_STEP,
    FLOW_STATUS,
    MAIL_STEP,
    NOTIFICATION_QUEUE,
    PAYMENT_METHOD,
)

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities
    from activities.notification import NotificationActivities

DECLINES = {"InsufficientFundsError", "PaymentDeclinedError", "ValidationError", "NotFoundError"}


def payment_key(data: PaymentInput) -> str:
    return f"payment-{data.purpose}-{data.reference_id}-{data.attempt}"


@workflow.defn(name="Payment")
class PaymentWorkflow:
    @workflow.run
    async def run(self, data: PaymentInput) -> PaymentResult:
        workflow.upsert_search_attributes(
            [PAYMENT_METHOD.value_set(data.method), FLOW_STATUS.value_set("PAYING")]
        )
        result = await self._charge(data)
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(result.status)])
        await self._mail(data, result)
        return result

    async def _charge(self, data: PaymentInput) -> PaymentResult:
        if data.method != "WALLET":
            return PaymentResult(
                status="DECLINED",
                method=data.method,
                amount_kopecks=data.amount_kopecks,
                message="Этот способ оплаты пока недоступен: выберите кошелёк",
                error_type="PaymentDeclinedError",
            )
        try:
            moved = await workflow.execute_activity_method(
                BillingActivities.debit_wallet,
                WalletMoveInput(
                    username=data.username,
                    amount_kopecks=data.amount_kopecks,
                    idempotency_key=payment_key(data),
                    reference=f"{data.purpose}:{data.reference_id}",
                ),
                summary=f"Списать {data.amount_kopecks / 100:.2f} ₽ с кошелька {data.username}",
                **DB_STEP.options(BILLING_QUEUE),
            )
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type in DECLINES:
                return PaymentResult(
                    status="DECLINED",
                    method=data.method,
                    amount_kopecks=data.amount_kopecks,
                    message=cause.message,
                    error_type=cause.type or "",
                )
            raise
        return PaymentResult(
            status="PAID",
            method=data.method,
            amount_kopecks=data.amount_kopecks,
            transaction_id=moved.transaction_id,
        )

    async def _mail(self, data: PaymentInput, result: PaymentResult) -> None:
        try:
            await workflow.execute_activity_method(
                NotificationActivities.send_result_mail,
                ResultMailInput(
                    kind="PAYMENT",
                    order_id=data.reference_id,
                    username=data.username,
                    success=result.status == "PAID",
                    amount_kopecks=data.amount_kopecks,
                    detail=result.message,
                    idempotency_key=f"{payment_key(data)}-mail",
                ),
                summary=f"Письмо о результате оплаты {data.username}",
                **MAIL_STEP.options(NOTIFICATION_QUEUE),
            )
        except ActivityError as exc:
            workflow.logger.warning("payment mail not sent: %s", exc.cause)
