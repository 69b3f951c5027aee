"""EmailChangeWorkflow `email-change-{username}`: mails a confirmation link to the NEW address,
waits up to a day (a durable timer) for the link to be followed, then changes the e-mail in auth
and in the notification channel, or ends as expired. A new request replaces the pending one: its
counter moves on, so the older link stops working. The link's token is an HMAC of the run and
the counter (computed by the activity and by the confirming endpoint): it never enters history."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.payloads_account import (
    ConfirmationMailInput,
    EmailChangeInput,
    EmailChangeRequest,
    EmailChangeState,
    EmailChangeStatus,
    EmailConfirmation,
    NewEmailInput,
)
from workflows import refs
from workflows.failures import STEP_FAILURES, business_failure
from workflows.policies import AUTH, DB_STEP, FLOW_STATUS, MAIL_STEP, NOTIFICATION

with workflow.unsafe.imports_passed_through():
    from activities.account import AccountActivities

STALE_LINK = "Ссылка устарела: откройте последнее письмо или запросите смену e-mail ещё раз"


@workflow.defn(name=refs.EmailChange.workflow.name)
class EmailChangeWorkflow:
    @workflow.init
    def __init__(self, data: EmailChangeInput) -> None:
        self._data = data
        self._state = EmailChangeState(status="WAITING", new_email="", counter=0)
        self._mailed = 0  # the counter whose link was last mailed
        self._deadline = workflow.now()
        self._confirmed = False
        self._failure: ApplicationError | None = None

    @workflow.query(name=refs.EmailChange.state.name)
    def state(self) -> EmailChangeState:
        return self._state

    def _set(self, status: EmailChangeStatus, **changes: Any) -> None:
        self._state = replace(self._state, status=status, **changes)
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(status)])

    @workflow.update(name=refs.EmailChange.request.name)
    def request(self, request: EmailChangeRequest) -> EmailChangeState:
        """A new address to confirm: a new link is mailed, the older one stops working."""
        self._deadline = workflow.now() + timedelta(seconds=self._data.confirm_seconds)
        self._set(
            "WAITING",
            new_email=request.new_email,
            counter=self._state.counter + 1,
            expires_at=self._deadline.timestamp(),
            detail="",
        )
        return self._state

    @request.validator
    def _validate_request(self, request: EmailChangeRequest) -> None:
        if self._state.status != "WAITING":
            raise ApplicationError(
                "Смена e-mail уже подтверждена, дождитесь её окончания", type="ConflictError"
            )

    @workflow.update(name=refs.EmailChange.confirm.name)
    async def confirm(self, confirmation: EmailConfirmation) -> EmailChangeState:
        """The link was followed: answers once the address has changed (or could not)."""
        self._confirmed = True
        self._set("APPLYING")
        await workflow.wait_condition(lambda: self._state.status != "APPLYING")
        if self._failure is not None:
            raise ApplicationError(
                self._failure.message, *self._failure.details, type=self._failure.type
            )
        return self._state

    @confirm.validator
    def _validate_confirm(self, confirmation: EmailConfirmation) -> None:
        if self._state.status != "WAITING" or confirmation.counter != self._state.counter:
            raise ApplicationError(STALE_LINK, type="ConflictError")

    @workflow.run
    async def run(self, data: EmailChangeInput) -> EmailChangeState:
        await workflow.wait_condition(lambda: self._state.counter > 0)
        while not self._confirmed:
            if self._mailed < self._state.counter:
                if not await self._mail(self._state):
                    break
                continue
            left = self._deadline - workflow.now()
            try:
                if left <= timedelta(0):
                    raise TimeoutError
                await workflow.wait_condition(
                    lambda: self._confirmed or self._mailed < self._state.counter, timeout=left
                )
            except TimeoutError:
                self._set("EXPIRED", detail="Ссылка не открыта за отведённое время")
                break
        if self._confirmed:
            await self._apply(self._state.new_email)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _mail(self, pending: EmailChangeState) -> bool:
        """Mail the link of `pending`; False when the address refused it for good."""
        info = workflow.info()
        try:
            await workflow.execute_activity_method(
                AccountActivities.send_email_confirmation,
                ConfirmationMailInput(
                    username=self._data.username,
                    new_email=pending.new_email,
                    workflow_id=info.workflow_id,
                    run_id=info.run_id,
                    counter=pending.counter,
                    hours=max(1, self._data.confirm_seconds // 3600),
                ),
                summary=f"Ссылка подтверждения на {pending.new_email}",
                **MAIL_STEP.options(self._data.queues, NOTIFICATION),
            )
        except STEP_FAILURES as exc:
            workflow.logger.warning("confirmation mail #%s not sent: %s", pending.counter, exc)
            if self._state.counter == pending.counter:
                self._set("FAILED", detail="Письмо на новый адрес не доставлено")
                return False
        self._mailed = max(self._mailed, pending.counter)
        return True

    async def _apply(self, new_email: str) -> None:
        change = NewEmailInput(username=self._data.username, new_email=new_email)
        try:
            await workflow.execute_activity_method(
                AccountActivities.change_email,
                change,
                summary=f"E-mail {self._data.username} в auth",
                **DB_STEP.options(self._data.queues, AUTH),
            )
        except STEP_FAILURES as exc:
            self._failure = business_failure(exc)
            self._set("FAILED", detail=self._failure.message)
            return
        try:
            await workflow.execute_activity_method(
                AccountActivities.change_email_channel,
                change,
                summary=f"Канал e-mail {self._data.username} в notification",
                **DB_STEP.options(self._data.queues, NOTIFICATION),
            )
        except STEP_FAILURES as exc:
            # auth holds the address; a missing notification account must not undo the change.
            workflow.logger.warning("e-mail channel of %s kept: %s", self._data.username, exc)
        self._set("CHANGED")
