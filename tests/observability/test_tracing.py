"""One trace per shopper action, across processes' roles: the API's request span, the Temporal
client's start of the checkout run, the run itself and its activities on the worker (the SDK's
contrib TracingInterceptor carries the context in the runs' headers)."""

from __future__ import annotations

from tests.observability.conftest import Observed
from tests.support.checkout import fund, start
from tests.support.orders import in_stock
from workflows.refs import Checkout


async def test_starting_a_checkout_is_one_trace_from_the_api_to_the_activities(
    observed: Observed,
) -> None:
    shop = observed.shop
    (product,) = await in_stock(shop.http, count=1)
    await fund(shop, 100_000)
    observed.spans.clear()  # the shopper's login and the like are traces of their own
    oid = (await start(shop, product["id"]))["id"]

    spans = list(observed.spans.get_finished_spans())
    (request,) = [s for s in spans if s.name == "PUT /order/process"]
    assert request.parent is None, "the request is the root"
    trace = request.context.trace_id
    ours = [s for s in spans if s.context.trace_id == trace]
    names = sorted(s.name for s in ours)
    # The checkout starts with an Update (update-with-start): the client's span, the run, the
    # Update handled in it, and the run's two first steps scheduled and run on the worker.
    client = [n for n in names if n.startswith("StartUpdateWithStartWorkflow:")]
    assert client, names
    assert f"RunWorkflow:{Checkout.workflow.name}" in names
    assert "HandleUpdate:ready" in names
    for step in ("order.begin_checkout", "store.hold_stock"):
        assert f"StartActivity:{step}" in names, names
        assert f"RunActivity:{step}" in names, names
    by_id = {s.context.span_id: s for s in ours}
    for span in ours:
        if span is not request:
            assert span.parent is not None, span.name
            assert span.parent.span_id in by_id, f"{span.name} hangs outside the trace"
    assert oid, "the checkout started"
