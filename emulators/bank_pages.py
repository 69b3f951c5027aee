"""The bank emulator's hosted pages: card form, 3-D Secure, СБП QR code, the «bank app», results.

Plain HTML forms in Russian, no scripts, so a test can drive them with an HTTP client and a browser
test with clicks. Every value that came from the merchant is escaped. Nothing here echoes a card
number or a CVC back.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import segno

QR_PAYLOAD_BASE = "https://qr.nspk.emulator/"

_PAGE = """<!doctype html><html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{head}
<title>{title}</title><style>
body{{font-family:system-ui,sans-serif;margin:0;background:#eef1f5;color:#1d2330}}
main{{max-width:420px;margin:40px auto;background:#fff;border-radius:12px;padding:24px 28px;
box-shadow:0 2px 12px rgba(0,0,0,.08)}}
h1{{font-size:1.3rem;margin:0 0 12px}} .bank{{color:#5b6475;font-size:.85rem}}
.amount{{font-size:1.6rem;font-weight:600;margin:8px 0 16px}}
label{{display:block;margin:12px 0 4px;font-size:.9rem}}
input[type=text],input[type=password]{{width:100%;box-sizing:border-box;padding:10px;
font-size:1rem;border:1px solid #c5ccd8;border-radius:6px}}
.row{{display:flex;gap:12px}} .row>div{{flex:1}}
.check{{display:flex;gap:8px;align-items:center;margin-top:14px}}
button{{margin-top:18px;padding:12px 18px;font-size:1rem;border:0;border-radius:6px;
background:#1b6ef3;color:#fff;cursor:pointer}} button.secondary{{background:#8a93a5}}
.error{{background:#fdecec;color:#a11;padding:10px;border-radius:6px}}
.ok{{color:#177a3c}} .declined{{color:#a11}} code{{word-break:break-all}}
</style></head><body><main><p class="bank">Банк-эмулятор · безопасная оплата</p>
{content}</main></body></html>"""


@dataclass(frozen=True)
class PaymentView:
    """What a page may show about a payment: no card data beyond the masked number."""

    payment_id: str
    method: str
    status: str
    amount_kopecks: int
    refunded_kopecks: int
    description: str
    return_url: str
    bind_card: bool
    decline_reason: str | None
    masked_card: str | None


def format_rubles(kopecks: int) -> str:
    rubles, rest = divmod(kopecks, 100)
    return f"{rubles:,}".replace(",", "\u00a0") + f",{rest:02d}\u00a0₽"


def return_link(return_url: str, payment_id: str) -> str:
    """`return_url` with `paymentId` added to whatever query it already has."""
    parts = urlsplit(return_url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("paymentId", payment_id)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _page(title: str, content: str, *, status_head: str = "") -> str:
    return _PAGE.format(title=html.escape(title), content=content, head=status_head)


def _summary(view: PaymentView) -> str:
    return (
        f"<p>{html.escape(view.description)}</p>"
        f'<p class="amount">{format_rubles(view.amount_kopecks)}</p>'
    )


def _errors(errors: Sequence[str]) -> str:
    if not errors:
        return ""
    items = "".join(f"<li>{html.escape(error)}</li>" for error in errors)
    return f'<div class="error" role="alert"><ul>{items}</ul></div>'


def card_form(view: PaymentView, *, errors: Sequence[str] = (), expiry: str = "") -> str:
    save = (
        '<div class="check"><input type="checkbox" id="saveCard" name="saveCard" value="1" '
        'checked><label for="saveCard" style="margin:0">Сохранить карту</label></div>'
        if view.bind_card
        else ""
    )
    content = f"""<h1>Оплата картой</h1>{_summary(view)}{_errors(errors)}
<form method="post" action="/pay/{html.escape(view.payment_id)}" autocomplete="on">
<label for="cardNumber">Номер карты</label>
<input type="text" id="cardNumber" name="cardNumber" inputmode="numeric"
 autocomplete="cc-number" placeholder="0000 0000 0000 0000" maxlength="23" required>
<div class="row"><div><label for="expiry">Срок действия (ММ/ГГ)</label>
<input type="text" id="expiry" name="expiry" inputmode="numeric" autocomplete="cc-exp"
 placeholder="ММ/ГГ" maxlength="5" value="{html.escape(expiry)}" required></div>
<div><label for="cvc">CVC</label>
<input type="password" id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc"
 maxlength="3" required></div></div>{save}
<button type="submit">Оплатить</button></form>"""
    return _page("Оплата картой", content)


def three_ds_form(view: PaymentView, *, errors: Sequence[str] = ()) -> str:
    content = f"""<h1>Подтверждение платежа (3-D Secure)</h1>{_summary(view)}
<p>Карта {html.escape(view.masked_card or "")}. Мы отправили код подтверждения в SMS.</p>
{_errors(errors)}<form method="post" action="/pay/{html.escape(view.payment_id)}/3ds">
<label for="code">Код из SMS</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
 maxlength="8" required>
<button type="submit">Подтвердить</button></form>"""
    return _page("Подтверждение платежа", content)


def qr_payload(payment_id: str) -> str:
    return f"{QR_PAYLOAD_BASE}{payment_id}"


def qr_svg(payload: str) -> str:
    """A real QR code of `payload` (segno, error correction M, the standard 4-module quiet zone)
    as inline SVG: any phone camera reads it."""
    drawing = segno.make_qr(payload, error="m").svg_inline(
        border=4,
        dark="#000",
        light="#fff",
        title=payload,
        omitsize=True,
        svgclass=None,
        lineclass=None,
    )
    # segno draws the modules; the page gives the picture its size and its accessible name.
    return drawing.replace(
        "<svg ",
        '<svg width="232" height="232" role="img" aria-label="QR-код СБП" '
        'shape-rendering="crispEdges" ',
        1,
    )


def sbp_qr(view: PaymentView) -> str:
    payload = qr_payload(view.payment_id)
    pid = html.escape(view.payment_id)
    # The page reloads itself, so paying in the app on a phone moves this page on to the result.
    content = f"""<h1>Оплата через СБП</h1>{_summary(view)}
<p>Отсканируйте QR-код камерой телефона или в приложении своего банка.</p>
<p style="text-align:center">{qr_svg(payload)}</p>
<p><code class="qr-payload">{html.escape(payload)}</code></p>
<p><a href="/sbp/{pid}/app">Открыть приложение банка</a></p>"""
    return _page("Оплата через СБП", content, status_head='<meta http-equiv="refresh" content="3">')


def sbp_app(view: PaymentView) -> str:
    content = f"""<h1>Приложение банка</h1><p>Перевод по QR-коду через СБП</p>{_summary(view)}
<form method="post" action="/sbp/{html.escape(view.payment_id)}/app">
<button type="submit" name="decision" value="confirm">Подтвердить</button>
<button type="submit" name="decision" value="reject" class="secondary">Отклонить</button>
</form>"""
    return _page("Приложение банка", content)


def result(view: PaymentView) -> str:
    succeeded = view.status in ("SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED")
    if succeeded:
        heading = '<h1 class="ok">Оплата прошла успешно</h1>'
        if view.refunded_kopecks:
            heading += f"<p>Возвращено: {format_rubles(view.refunded_kopecks)}</p>"
    else:
        reason = view.decline_reason or "Банк отклонил операцию"
        heading = f'<h1 class="declined">Оплата не прошла</h1><p>{html.escape(reason)}</p>'
    head = ""
    link = ""
    if view.return_url:
        target = html.escape(return_link(view.return_url, view.payment_id))
        head = f'<meta http-equiv="refresh" content="3;url={target}">'
        link = f'<p><a href="{target}">Вернуться в магазин</a></p>'
    content = f"{heading}{_summary(view)}{link}"
    return _page("Результат оплаты", content, status_head=head)


def message(title: str, text: str) -> str:
    return _page(title, f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>")
