"""The bank emulator's HTTP face: the merchant API, the buyer's pages and the /admin API for tests
(the routes are listed in emulators/bank.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from emulators import bank_pages as pages
from emulators.bank_callbacks import Callbacks
from emulators.bank_core import Bank
from emulators.bank_models import (
    BankError,
    CallbackSettings,
    ChargeIn,
    LatencyIn,
    PaymentIn,
    RefundIn,
    SeedCardIn,
    check_card_form,
    log,
)
from emulators.common import install_error_handlers, json_error


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand so the emulator needs no python-multipart.
    fields = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def create_app(
    *, callback_secret: str, public_url: str, retry_base_s: float = 1.0, attempts: int = 10
) -> FastAPI:
    bank = Bank(public_url)
    callbacks = Callbacks(callback_secret, retry_base_s=retry_base_s, attempts=attempts)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await callbacks.start()
        yield
        await callbacks.stop()

    app = FastAPI(title="Банк (эмулятор)", lifespan=lifespan)

    @app.exception_handler(BankError)
    async def bank_error(_request: Request, exc: BankError) -> JSONResponse:
        return json_error(exc.status, exc.message)

    install_error_handlers(app)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/payments")
    async def create_payment(body: PaymentIn) -> dict[str, Any]:
        return bank.create(body)

    @app.get("/api/payments/{payment_id}")
    async def get_payment(payment_id: str) -> dict[str, Any]:
        return bank.get(payment_id)

    latency = LatencyIn()

    @app.post("/api/tokens/{token}/charge")
    async def charge(token: str, body: ChargeIn) -> dict[str, Any]:
        payment, event = bank.charge(token, body)
        callbacks.emit(event)
        # A slow answer after the money moved: the merchant may crash before it hears back.
        await asyncio.sleep(latency.charge_ms / 1000)
        return payment

    @app.post("/admin/latency")
    async def set_latency(body: LatencyIn) -> dict[str, int]:
        nonlocal latency
        latency = body
        return {"chargeMs": latency.charge_ms}

    @app.get("/admin/payments")
    async def customer_payments(
        customer_ref: Annotated[str, Query(alias="customerRef", min_length=1)],
    ) -> list[dict[str, Any]]:
        return bank.of_customer(customer_ref)

    @app.post("/api/payments/{payment_id}/refunds")
    async def refund(payment_id: str, body: RefundIn) -> dict[str, Any]:
        answer, event = bank.refund(payment_id, body)
        callbacks.emit(event)
        return answer

    def page_of(payment_id: str, build: Callable[[pages.PaymentView], str]) -> HTMLResponse:
        view = bank.view(payment_id)
        if view is None:
            return _html(pages.message("Платёж не найден", "Проверьте ссылку на оплату."), 404)
        if view.status != "PENDING":
            return _html(pages.result(view))
        return _html(build(view))

    def to_page(payment_id: str, suffix: str = "") -> RedirectResponse:
        return RedirectResponse(f"/pay/{payment_id}{suffix}", status_code=303)

    @app.get("/pay/{payment_id}", response_class=HTMLResponse)
    async def pay_page(payment_id: str) -> Response:
        view = bank.view(payment_id)
        build = pages.sbp_qr if view is not None and view.method == "SBP" else pages.card_form
        return page_of(payment_id, build)

    @app.post("/pay/{payment_id}", response_class=HTMLResponse)
    async def pay_submit(payment_id: str, request: Request) -> Response:
        view = bank.view(payment_id)
        if view is None or view.status != "PENDING" or view.method != "CARD":
            return page_of(payment_id, pages.card_form)
        form = await _form(request)
        number, expiry, errors = check_card_form(
            form.get("cardNumber", ""), form.get("expiry", ""), form.get("cvc", "")
        )
        if errors:
            return _html(pages.card_form(view, errors=errors, expiry=form.get("expiry", "")), 400)
        challenge, event = bank.pay_by_card(payment_id, number, expiry, "saveCard" in form)
        callbacks.emit(event)
        return to_page(payment_id, "/3ds" if challenge else "")

    @app.get("/pay/{payment_id}/3ds", response_class=HTMLResponse)
    async def three_ds_page(payment_id: str) -> Response:
        if not bank.has_challenge(payment_id):
            return to_page(payment_id)
        return page_of(payment_id, pages.three_ds_form)

    @app.post("/pay/{payment_id}/3ds", response_class=HTMLResponse)
    async def three_ds_submit(payment_id: str, request: Request) -> Response:
        if bank.view(payment_id) is None:
            return page_of(payment_id, pages.three_ds_form)
        callbacks.emit(bank.confirm_3ds(payment_id, (await _form(request)).get("code", "")))
        return to_page(payment_id)

    @app.get("/sbp/{payment_id}/app", response_class=HTMLResponse)
    async def sbp_app(payment_id: str) -> Response:
        view = bank.view(payment_id)
        if view is not None and view.method != "SBP":
            return _html(pages.message("Не СБП", "Этот платёж оплачивается картой."), 409)
        return page_of(payment_id, pages.sbp_app)

    @app.post("/sbp/{payment_id}/app", response_class=HTMLResponse)
    async def sbp_decide(payment_id: str, request: Request) -> Response:
        view = bank.view(payment_id)
        if view is None or view.method != "SBP":
            return await sbp_app(payment_id)
        decision = (await _form(request)).get("decision")
        if decision not in ("confirm", "reject"):
            return _html(pages.message("Неверный запрос", "Подтвердите или отклоните платёж."), 400)
        callbacks.emit(bank.decide_sbp(payment_id, decision == "confirm"))
        return to_page(payment_id)

    @app.post("/admin/tokens")
    async def seed_card(body: SeedCardIn) -> dict[str, str]:
        return bank.seed_card(body)

    @app.get("/admin/callbacks")
    async def callback_settings() -> CallbackSettings:
        return callbacks.settings

    @app.post("/admin/callbacks")
    async def set_callback_settings(settings: CallbackSettings) -> CallbackSettings:
        callbacks.settings = settings
        log.info("callback settings: %s", settings.model_dump_json(by_alias=True))
        return settings

    @app.delete("/admin/callbacks", status_code=204)
    async def reset_callbacks() -> None:
        callbacks.reset()

    @app.post("/admin/callbacks/hold")
    async def hold_callbacks() -> dict[str, Any]:
        return {"held": True, "waiting": callbacks.hold()}

    @app.post("/admin/callbacks/release")
    async def release_callbacks() -> dict[str, Any]:
        return {"held": False, "released": callbacks.release()}

    @app.get("/admin/callbacks/log")
    async def callback_log(
        payment_id: Annotated[str | None, Query(alias="paymentId")] = None,
    ) -> list[dict[str, Any]]:
        return callbacks.deliveries(payment_id)

    return app
