"""Prometheus metrics an operator scrapes: the API's requests by route template, and from the
worker's Temporal runtime the SDK's own metrics beside the checkout and payment outcomes the
workflows count."""

from __future__ import annotations

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.db import SessionFactory
from edge.app import create_app
from tests.observability.conftest import Observed
from tests.support.checkout import fund, pick_up, post, start
from tests.support.orders import in_stock
from tests.support.shop import api_settings
from workflows.refs import Checkout


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of metric `name` in a scrape, by their sorted labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def labelled(found: dict[tuple[tuple[str, str], ...], float], **labels: str) -> float:
    """The sum of the samples whose labels include `labels`."""
    return sum(
        value for key, value in found.items() if set(labels.items()) <= set(dict(key).items())
    )


async def test_a_checkout_shows_in_the_worker_metrics(observed: Observed) -> None:
    shop = observed.shop
    (product,) = await in_stock(shop.http, count=1)
    await fund(shop, 100_000)
    oid = (await start(shop, product["id"]))["id"]
    assert (await pick_up(shop, oid)).status_code == 200
    paid = await post(shop.http, f"/checkout/{oid}/pay", {"method": "WALLET"})
    assert paid.json()["step"] == "PAID", paid.text
    await shop.env.client.get_workflow_handle(f"checkout-{oid}").result()

    scrape = await observed.worker_metrics()
    checkouts = samples(scrape, "shopflow_checkout_outcomes_total")
    assert labelled(checkouts, outcome="PAID") == 1, scrape
    payments = samples(scrape, "shopflow_payment_outcomes_total")
    assert labelled(payments, method="WALLET", purpose="order", status="PAID") == 1
    # The SDK's own: the runs completed and the workflow tasks of this worker's queue.
    completed = samples(scrape, "temporal_workflow_completed_total")
    assert labelled(completed, workflow_type=Checkout.workflow.name) == 1, sorted(completed)
    assert re.search(r"^temporal_workflow_task_execution_latency", scrape, re.M)


async def test_the_api_counts_requests_by_route_template(sessions: SessionFactory) -> None:
    app = create_app(api_settings(), session_factory=sessions)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://shop.test"
    ) as http:
        for query in ("чайник", "пылесос"):
            assert (await http.get("/store/search", params={"q": query})).status_code == 200
        assert (await http.get("/store/get", params={"productId": "1"})).status_code == 401
        assert (await http.get("/no/such/page/12345")).status_code == 404
        scrape = (await http.get("/metrics")).text

    requests = samples(scrape, "shopflow_http_requests_total")
    assert labelled(requests, method="GET", route="/store/search", status="200") == 2
    assert labelled(requests, route="/store/get", status="401") == 1
    assert labelled(requests, route="unmatched", status="404") == 1
    assert not [key for key in requests if "12345" in str(key)], "a raw path became a label"
    latency = samples(scrape, "shopflow_http_request_duration_seconds_count")
    assert labelled(latency, route="/store/search") == 2


async def test_metrics_can_be_switched_off(sessions: SessionFactory) -> None:
    app = create_app(api_settings(metrics_enabled=False), session_factory=sessions)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://shop.test"
    ) as http:
        assert (await http.get("/metrics")).status_code == 404
