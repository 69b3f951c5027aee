"""The refs the edge calls workflows by (workflows/refs.py) name handlers that exist, with the
argument and result types the handlers declare: a renamed Update or a changed payload breaks this
test, not a shopper's checkout."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import pytest
from temporalio import workflow

from workflows import refs
from workflows.account import EmailChangeWorkflow
from workflows.checkout import CheckoutWorkflow
from workflows.fulfilment import FulfilmentWorkflow
from workflows.payment import LateBankPaymentWorkflow, PaymentWorkflow
from workflows.purchase import GiftCardWorkflow, WalletTopUpWorkflow
from workflows.registration import RegistrationWorkflow

CLASSES: dict[type, type] = {
    refs.Checkout: CheckoutWorkflow,
    refs.Payment: PaymentWorkflow,
    refs.LateBankPayment: LateBankPaymentWorkflow,
    refs.Registration: RegistrationWorkflow,
    refs.GiftCard: GiftCardWorkflow,
    refs.WalletTopUp: WalletTopUpWorkflow,
    refs.Fulfilment: FulfilmentWorkflow,
    refs.EmailChange: EmailChangeWorkflow,
}


def _hints(fn: Callable[..., Any]) -> tuple[list[Any], Any]:
    """The handler's parameter types (without self) and its return type, awaitables unwrapped."""
    hints = typing.get_type_hints(fn)
    result = hints.pop("return", None)
    return list(hints.values()), result


def _members(holder: type) -> dict[str, object]:
    """The refs a holder has, its base's (a purchase's shared handlers) included."""
    return {attr: getattr(holder, attr) for attr in dir(holder) if not attr.startswith("_")}


def _refs() -> list[tuple[type, str, object]]:
    return [
        (holder, attr, value)
        for holder in CLASSES
        for attr, value in _members(holder).items()
        if isinstance(value, refs.WorkflowRef | refs.UpdateRef | refs.SignalRef | refs.QueryRef)
    ]


@pytest.mark.parametrize(("holder", "attr", "ref"), _refs(), ids=lambda v: getattr(v, "name", v))
def test_each_ref_names_a_handler_with_its_types(holder: type, attr: str, ref: object) -> None:
    definition = workflow._Definition.must_from_class(CLASSES[holder])
    if isinstance(ref, refs.WorkflowRef):
        assert definition.name == ref.name
        params, result = _hints(definition.run_fn)
        assert (params, result) == ([ref.input], ref.result)
        return
    if isinstance(ref, refs.UpdateRef):
        update = definition.updates.get(ref.name)
        assert update is not None, f"{holder.__name__}.{attr}: no Update {ref.name!r}"
        params, result = _hints(update.fn)
        assert (params, result) == ([] if ref.arg is None else [ref.arg], ref.result)
        return
    if isinstance(ref, refs.SignalRef):
        signal = definition.signals.get(ref.name)
        assert signal is not None, f"{holder.__name__}.{attr}: no Signal {ref.name!r}"
        params, _ = _hints(signal.fn)
        assert params == ([] if ref.arg is None else [ref.arg])
        return
    assert isinstance(ref, refs.QueryRef)
    query = definition.queries.get(ref.name)
    assert query is not None, f"{holder.__name__}.{attr}: no Query {ref.name!r}"
    params, result = _hints(query.fn)
    assert (params, result) == ([], ref.result)


def test_every_handler_the_edge_may_call_has_a_ref() -> None:
    """No handler is left to be called by a string of its caller's own."""
    for holder, cls in CLASSES.items():
        definition = workflow._Definition.must_from_class(cls)
        named = {getattr(value, "name", None) for value in _members(holder).values()}
        handlers = [*definition.updates, *definition.signals, *definition.queries]
        missing = [name for name in handlers if name not in named and name is not None]
        assert not missing, f"{cls.__name__}: handlers without a ref in workflows/refs: {missing}"
