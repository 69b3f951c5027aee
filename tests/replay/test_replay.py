"""Every recorded history (tests/replay/histories/<version>/, recorded from real runs by
`python -m tests.replay.record`) replays on the workflow code as it is now, with the worker's
own sandbox configuration: a change that would break runs in flight fails here, naming the file
and the reason. Every workflow kind the worker serves has histories, the flows that undo steps
their compensation paths too; and a variant of the registration with two steps swapped is caught
(docs/operations.md, "Changing a workflow without breaking runs in flight", has the procedure and
the worked example replayed at the end)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

# The module also defines workflows (the variants below): the sandbox re-imports it, so whatever
# is not workflow code passes through.
with workflow.unsafe.imports_passed_through():
    import pytest
    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer, WorkflowReplayResult

    from activities.auth import AuthActivities
    from activities.billing import BillingActivities
    from activities.notification import NotificationActivities
    from activities.payment import PaymentActivities
    from models.payloads import (
        CustomerInput,
        NotificationAccountInput,
        RegistrationInput,
        RegistrationResult,
    )
    from tests.replay.recorded import HISTORIES as HISTORIES
    from tests.replay.recorded import (
        Recorded,
        every_recorded,
        is_closed,
        kind_slug,
        newest_set,
    )
    from workers.bootstrap import WORKFLOW_RUNNER, WORKFLOWS
    from workflows import refs
    from workflows.failures import business_failure
    from workflows.policies import AUTH, BILLING, NOTIFICATION, PAYMENT
    from workflows.registration import RegistrationWorkflow

RECORD = "record them with `.venv/bin/python -m tests.replay.record` (docs/operations.md)"

# The paths each kind must have in the newest set: its happy path and, where the flow undoes
# steps or gives money back, those paths. A kind added to WORKFLOWS needs at least one history
# (test_every_workflow_kind_has_histories) and a line here once it compensates.
EXPECTED_PATHS: dict[str, tuple[str, ...]] = {
    "Registration": ("completed", "compensated"),  # user, wallet and accounts undone
    "Checkout": ("paid", "payment-declined", "confirm-failed"),  # stock released; refunded
    "Payment": ("paid", "declined"),
    "LateBankPayment": ("refunded",),  # its whole job: a late bank success given back
    "GiftCard": ("paid", "payment-declined", "issue-failed"),  # refunded when not issued
    "WalletTopUp": ("paid", "payment-declined", "credit-failed"),  # refunded when not credited
    "Fulfilment": ("picked-up", "canceled", "returned"),  # stock back, money back
    "EmailChange": ("changed", "failed"),
}


def kind_name(workflow_class: type) -> str:
    return str(getattr(workflow_class, "__temporal_workflow_definition").name)


def kinds() -> set[str]:
    return {kind_name(cls) for cls in WORKFLOWS}


@pytest.fixture(scope="module")
def recorded() -> list[Recorded]:
    found = every_recorded()
    assert found, f"no recorded histories under {HISTORIES}: {RECORD}"
    return found


@pytest.fixture(scope="module")
def newest(recorded: list[Recorded]) -> dict[str, Recorded]:
    """The newest set's histories by file stem (`checkout-paid`)."""
    release = newest_set()
    return {r.path.stem: r for r in recorded if r.release == release}


async def replay(
    recorded: Sequence[Recorded], workflows: Sequence[type] = WORKFLOWS
) -> dict[str, BaseException]:
    """Replay in one replayer configured as the worker is; the failures by file."""
    replayer = Replayer(workflows=workflows, workflow_runner=WORKFLOW_RUNNER)

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for each in recorded:
            yield each.history

    by_run = {each.history.run_id: each for each in recorded}
    assert len(by_run) == len(recorded), "two files hold the same run"
    async with asyncio.timeout(60):
        results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    return {str(by_run[run_id]): failure for run_id, failure in results.replay_failures.items()}


def why(failure: BaseException) -> str:
    """The failure's own message (core wraps it in the activation's debug dump)."""
    found = re.search(r'message: "(.*?)", source:', str(failure))
    return f"{type(failure).__name__}: {found.group(1) if found else failure}"


async def replay_one(history: Recorded, workflow_class: type) -> WorkflowReplayResult:
    replayer = Replayer(workflows=[workflow_class], workflow_runner=WORKFLOW_RUNNER)
    async with asyncio.timeout(30):
        return await replayer.replay_workflow(history.history, raise_on_replay_failure=False)


async def test_every_recorded_history_replays_on_the_current_code(
    recorded: list[Recorded],
) -> None:
    failures = await replay(recorded)
    assert not failures, "histories that no longer replay (a run in flight would fail so):\n" + (
        "\n".join(f"- {name}: {why(exc)}" for name, exc in failures.items())
    )


def test_recorded_histories_are_whole_runs_named_by_their_kind(recorded: list[Recorded]) -> None:
    for each in recorded:
        assert is_closed(each.history), f"{each}: the run had not ended when it was recorded"
        assert each.path.stem.startswith(f"{kind_slug(each.workflow_type)}-"), (
            f"{each} holds a {each.workflow_type} run"
        )


def test_every_workflow_kind_has_histories(newest: dict[str, Recorded]) -> None:
    recorded_kinds = {each.workflow_type for each in newest.values()}
    missing = sorted(kinds() - recorded_kinds)
    assert not missing, f"no recorded history of {missing} in the newest set: {RECORD}"
    assert set(EXPECTED_PATHS) <= kinds(), "EXPECTED_PATHS names a kind the worker no longer runs"


def test_every_kind_has_its_happy_and_compensation_paths(newest: dict[str, Recorded]) -> None:
    missing = [
        f"{kind_slug(kind)}-{path}.json"
        for kind, paths in EXPECTED_PATHS.items()
        for path in paths
        if f"{kind_slug(kind)}-{path}" not in newest
    ]
    assert not missing, f"the newest set has no {missing}: {RECORD}"


# --- a reordering is caught ----------------------------------------------------------------------

Opened = tuple[Any, Any, Any, Any]  # user, wallet, payment profile, notification account


class _Registration(RegistrationWorkflow):
    """workflows/registration.py's steps and its frame (compensation, welcome mail, result), for
    variants that open the user, the wallet and the accounts in another order (`_opening`)."""

    async def _user(self, data: RegistrationInput) -> Any:
        self._enter("создание пользователя", "CREATING_USER")
        return await self._step_with_undo(
            AUTH,
            AuthActivities.create_user,
            AuthActivities.delete_user,
            data,
            data,
            f"Пользователь {data.username} в auth",
        )

    def _open_wallet(self, customer: CustomerInput) -> Awaitable[Any]:
        return self._step_with_undo(
            BILLING,
            BillingActivities.open_wallet,
            BillingActivities.close_empty_wallet,
            customer,
            customer,
            f"Кошелёк {customer.username} в billing",
        )

    def _open_accounts(
        self, data: RegistrationInput, customer: CustomerInput
    ) -> tuple[Awaitable[Any], Awaitable[Any]]:
        """The payment profile and the notification account (not started: gather them)."""
        name = data.username
        return (
            self._step_with_undo(
                PAYMENT,
                PaymentActivities.create_profile,
                PaymentActivities.delete_profile,
                customer,
                customer,
                f"Платёжный профиль {name} в payment",
            ),
            self._step_with_undo(
                NOTIFICATION,
                NotificationActivities.create_account,
                NotificationActivities.delete_account,
                NotificationAccountInput(username=name, email=data.email, phone=data.phone),
                customer,
                f"Учётная запись уведомлений {name} (e-mail, SMS, push)",
            ),
        )

    async def _opening(self, data: RegistrationInput) -> Opened:
        raise NotImplementedError

    async def _registered(self, data: RegistrationInput) -> RegistrationResult:
        try:
            user, wallet, profile, account = await self._opening(data)
        except (ActivityError, asyncio.CancelledError) as exc:
            self._enter("откат", "COMPENSATING")
            await self._saga.compensate()
            self._enter("отменена", "FAILED")
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise business_failure(exc) from exc
        self._enter("приветственное письмо", "SENDING_WELCOME")
        mail_sent = await self._send_welcome(data)
        self._enter("готово", "COMPLETED")
        return RegistrationResult(
            data.username, user.user_id, wallet.id, profile.id, account.id, mail_sent
        )


@workflow.defn(name=refs.Registration.workflow.name)
class AsWritten(_Registration):
    """The steps in workflows/registration.py's order: the control that `_Registration` is the
    real flow, so that a failure of the variants below is their reordering's."""

    @workflow.run
    async def run(self, data: RegistrationInput) -> RegistrationResult:
        return await self._registered(data)

    async def _opening(self, data: RegistrationInput) -> Opened:
        return await self._after_user(data, await self._user(data))

    async def _after_user(self, data: RegistrationInput, user: Any) -> Opened:
        self._enter("открытие кошелька", "OPENING_WALLET")
        wallet = await self._open_wallet(CustomerInput(data.username))
        self._enter("платёжный профиль и уведомления", "OPENING_ACCOUNTS")
        profile, account = await asyncio.gather(
            *self._open_accounts(data, CustomerInput(data.username))
        )
        return user, wallet, profile, account


@workflow.defn(name=refs.Registration.workflow.name)
class WalletBeforeUser(AsWritten):
    """The real registration with its first two steps swapped: the wallet opened before the user
    is created."""

    @workflow.run
    async def run(self, data: RegistrationInput) -> RegistrationResult:
        return await self._registered(data)

    async def _opening(self, data: RegistrationInput) -> Opened:
        self._enter("открытие кошелька", "OPENING_WALLET")
        wallet = await self._open_wallet(CustomerInput(data.username))
        user = await self._user(data)
        self._enter("платёжный профиль и уведомления", "OPENING_ACCOUNTS")
        profile, account = await asyncio.gather(
            *self._open_accounts(data, CustomerInput(data.username))
        )
        return user, wallet, profile, account


def registrations(newest: dict[str, Recorded]) -> list[Recorded]:
    found = [each for each in newest.values() if each.workflow_type == "Registration"]
    assert {"registration-completed", "registration-compensated"} <= {r.path.stem for r in found}
    return found


async def test_the_registration_variants_frame_is_the_real_flow(
    newest: dict[str, Recorded],
) -> None:
    assert await replay(registrations(newest), [AsWritten]) == {}


async def test_two_steps_swapped_fail_the_replay_with_a_nondeterminism_error(
    newest: dict[str, Recorded],
) -> None:
    history = newest["registration-completed"]

    failure = (await replay_one(history, WalletBeforeUser)).replay_failure

    assert isinstance(failure, workflow.NondeterminismError), repr(failure)
    assert "billing.open_wallet" in str(failure), "it names the step that moved"
    assert "auth.create_user" in str(failure), "and the one the history holds"


# --- the worked example of docs/operations.md ----------------------------------------------------

PATCH = "wallet-beside-accounts"


class _WalletBesideAccounts(AsWritten):
    """The change of the worked example: the wallet opened side by side with the payment
    profile and the notification account (all three need only the user)."""

    async def _beside(self, data: RegistrationInput, user: Any) -> Opened:
        customer = CustomerInput(data.username)
        self._enter("кошелёк, платёжный профиль и уведомления", "OPENING_ACCOUNTS")
        wallet, profile, account = await asyncio.gather(
            self._open_wallet(customer), *self._open_accounts(data, customer)
        )
        return user, wallet, profile, account


@workflow.defn(name=refs.Registration.workflow.name)
class Patched(_WalletBesideAccounts):
    """Step 1: behind `workflow.patched`; a run that reached this point on the old code keeps
    the old order."""

    @workflow.run
    async def run(self, data: RegistrationInput) -> RegistrationResult:
        return await self._registered(data)

    async def _after_user(self, data: RegistrationInput, user: Any) -> Opened:
        if workflow.patched(PATCH):
            return await self._beside(data, user)
        return await super()._after_user(data, user)


@workflow.defn(name=refs.Registration.workflow.name)
class Deprecated(_WalletBesideAccounts):
    """Step 4: the old order gone, the patch deprecated."""

    @workflow.run
    async def run(self, data: RegistrationInput) -> RegistrationResult:
        return await self._registered(data)

    async def _after_user(self, data: RegistrationInput, user: Any) -> Opened:
        workflow.deprecate_patch(PATCH)
        return await self._beside(data, user)


@workflow.defn(name=refs.Registration.workflow.name)
class Unpatched(_WalletBesideAccounts):
    """Step 5, and the same change made without a patch at all."""

    @workflow.run
    async def run(self, data: RegistrationInput) -> RegistrationResult:
        return await self._registered(data)

    async def _after_user(self, data: RegistrationInput, user: Any) -> Opened:
        return await self._beside(data, user)


async def test_the_patched_change_replays_the_runs_that_began_before_it(
    newest: dict[str, Recorded],
) -> None:
    assert await replay(registrations(newest), [Patched]) == {}


@pytest.mark.parametrize("too_early", [Deprecated, Unpatched], ids=["deprecated", "unpatched"])
async def test_the_change_without_its_patch_breaks_them(
    newest: dict[str, Recorded], too_early: type
) -> None:
    """What the replay test says when the old branch goes while runs of the old code remain:
    the code of steps 4 and 5, or the change made without a patch."""
    failure = (await replay_one(newest["registration-completed"], too_early)).replay_failure
    assert isinstance(failure, workflow.NondeterminismError), repr(failure)
