"""Gift card purchases and wallet top-ups as the edge reaches them: started with the amount (and
the grantee), then «Оплатить» and the bank's page like the checkout, each call checking the
purchase is the shopper's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)

from core.errors import NotFoundError
from core.settings import Settings
from flows.engine import TemporalClient, bounded, query, queues_of, update
from models.payloads import PayRequest
from models.payloads_purchase import GiftCardOrder, PurchaseInput, PurchaseKind, PurchaseState
from workflows.policies import CUSTOMER_ID, FLOW_STATUS, PURCHASE_TIMEOUT
from workflows.refs import GiftCard, Purchase, UpdateRef, WalletTopUp, WorkflowRef

In = TypeVar("In")
ID_LENGTH = len("giftcard-") + 32
NOT_YOURS = "Покупка не найдена"


def kind_of(purchase_id: str) -> PurchaseKind | None:
    for kind in ("giftcard", "topup"):
        if purchase_id.startswith(f"{kind}-"):
            return kind
    return None


@dataclass(frozen=True)
class Purchases:
    temporal: TemporalClient
    settings: Settings

    async def buy_gift_card(
        self, username: str, amount_kopecks: int, order: GiftCardOrder
    ) -> PurchaseState:
        return await self._start(GiftCard.workflow, "giftcard", username, amount_kopecks, order)

    async def top_up(self, username: str, amount_kopecks: int) -> PurchaseState:
        return await self._start(WalletTopUp.workflow, "topup", username, amount_kopecks, None)

    async def state(self, username: str, purchase_id: str) -> PurchaseState:
        current = await self._state(purchase_id)
        if current is None or current.username != username:
            raise NotFoundError(NOT_YOURS)
        return current

    async def pay(self, username: str, purchase_id: str, request: PayRequest) -> PurchaseState:
        return await self._update(username, purchase_id, Purchase.pay, request)

    async def leave_bank_page(self, username: str, purchase_id: str) -> PurchaseState:
        return await self._update(username, purchase_id, Purchase.leave_bank_page, None)

    async def _start(
        self,
        ref: WorkflowRef[PurchaseInput, PurchaseState],
        kind: PurchaseKind,
        username: str,
        amount_kopecks: int,
        order: GiftCardOrder | None,
    ) -> PurchaseState:
        settings = self.settings
        data = PurchaseInput(
            purchase_id=f"{kind}-{uuid.uuid4().hex}",
            kind=kind,
            username=username,
            amount_kopecks=amount_kopecks,
            gift=order,
            idle_timeout_seconds=int(settings.checkout_idle_minutes * 60),
            public_url=settings.public_url,
            bank_wait_seconds=int(settings.bank_wait_minutes * 60),
            bank_poll_seconds=max(1, int(settings.bank_poll_seconds)),
            queues=queues_of(settings),
        )
        what = "Подарочная карта" if kind == "giftcard" else "Пополнение кошелька"
        await bounded(
            self.temporal.start_workflow(
                ref.name,
                data,
                id=data.purchase_id,
                task_queue=data.queues.workflows,
                result_type=ref.result,
                execution_timeout=PURCHASE_TIMEOUT,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(CUSTOMER_ID, username),
                        SearchAttributePair(FLOW_STATUS, "CHOOSING_PAYMENT"),
                    ]
                ),
                static_summary=f"{what}: {username}",
            ),
            settings.update_wait_seconds,
        )
        return PurchaseState(
            purchase_id=data.purchase_id,
            kind=kind,
            username=username,
            amount_kopecks=amount_kopecks,
            grantee_name=order.grantee_name if order else "",
            grantee_email=order.grantee_email if order else "",
            design=order.design if order else "",
        )

    async def _state(self, purchase_id: str) -> PurchaseState | None:
        if kind_of(purchase_id) is None or len(purchase_id) > ID_LENGTH:
            return None
        return await query(
            self.temporal, purchase_id, Purchase.state, self.settings.update_wait_seconds
        )

    async def _update(
        self,
        username: str,
        purchase_id: str,
        ref: UpdateRef[In, PurchaseState],
        arg: In,
    ) -> PurchaseState:
        await self.state(username, purchase_id)
        return await update(
            self.temporal,
            purchase_id,
            ref,
            arg,
            seconds=self.settings.update_wait_seconds,
            ended="Покупка уже завершена",
        )
