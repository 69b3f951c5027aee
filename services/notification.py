"""notification: customer accounts with their channels, and an idempotent log of messages."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import get_or_create
from core.errors import NotFoundError
from core.money import format_roubles
from core.timeutil import to_moscow, utcnow
from models.notification import ChannelKind, Notification, NotificationAccount, NotificationChannel


async def create_account(
    *, session: AsyncSession, username: str, email: str, phone: str
) -> NotificationAccount:
    """Open the account with its channels: e-mail (delivered), SMS and push (recorded)."""
    account, _ = await get_or_create(session, NotificationAccount, username=username)
    assert account.id is not None
    addresses = {ChannelKind.EMAIL: email, ChannelKind.SMS: phone, ChannelKind.PUSH: username}
    for kind, address in addresses.items():
        channel, _ = await get_or_create(
            session, NotificationChannel, {"address": address}, account_id=account.id, kind=kind
        )
        channel.address = address
        session.add(channel)
    await session.flush()
    return account


async def get_channels(*, session: AsyncSession, username: str) -> list[NotificationChannel]:
    """The account's channels, or NotFoundError when the customer has no account."""
    account = (
        await session.exec(
            select(NotificationAccount).where(NotificationAccount.username == username)
        )
    ).first()
    if account is None:
        raise NotFoundError("Учётная запись уведомлений не найдена")
    found = await session.exec(
        select(NotificationChannel).where(NotificationChannel.account_id == account.id)
    )
    return list(found.all())


async def delete_account(*, session: AsyncSession, username: str) -> bool:
    """Undo `create_account` (channels go with it)."""
    account = (
        await session.exec(
            select(NotificationAccount).where(NotificationAccount.username == username)
        )
    ).first()
    if account is None:
        return False
    await session.exec(
        delete(NotificationChannel).where(col(NotificationChannel.account_id) == account.id)
    )
    await session.delete(account)
    return True


async def email_address(*, session: AsyncSession, username: str) -> str:
    """Where e-mail for the customer goes."""
    for channel in await get_channels(session=session, username=username):
        if channel.kind is ChannelKind.EMAIL and channel.enabled:
            return channel.address
    raise NotFoundError("У клиента нет адреса e-mail")


async def record_email(
    *,
    session: AsyncSession,
    idempotency_key: str,
    username: str,
    subject: str,
    body: str,
    address: str = "",
) -> Notification:
    """The message for this key, written once; a second call returns the first one unchanged.
    `address`: another person's (a gift card's grantee); else the customer's own e-mail."""
    return await record_message(
        session=session,
        idempotency_key=idempotency_key,
        username=username,
        kind=ChannelKind.EMAIL,
        address=address or await email_address(session=session, username=username),
        subject=subject,
        body=body,
    )


async def record_message(
    *,
    session: AsyncSession,
    idempotency_key: str,
    username: str,
    kind: ChannelKind,
    address: str,
    subject: str,
    body: str,
) -> Notification:
    """A message on one channel, written once per key; a second call returns the first one."""
    existing = (
        await session.exec(
            select(Notification).where(Notification.idempotency_key == idempotency_key)
        )
    ).first()
    if existing is not None:
        return existing
    message = Notification(
        idempotency_key=idempotency_key,
        username=username,
        kind=kind,
        address=address,
        subject=subject,
        body=body,
    )
    session.add(message)
    await session.flush()
    return message


async def enabled_channels(*, session: AsyncSession, username: str) -> dict[ChannelKind, str]:
    """Where the customer wants to be reached: each enabled channel's address."""
    channels = await get_channels(session=session, username=username)
    return {channel.kind: channel.address for channel in channels if channel.enabled}


async def set_channel_enabled(
    *, session: AsyncSession, username: str, kind: ChannelKind, enabled: bool
) -> NotificationChannel:
    """Turn a channel on or off (the shopper's choice in «Личный кабинет»)."""
    for channel in await get_channels(session=session, username=username):
        if channel.kind is kind:
            channel.enabled = enabled
            session.add(channel)
            await session.flush()
            return channel
    raise NotFoundError("Такого канала у клиента нет")


async def push_notices(
    *, session: AsyncSession, username: str, after_id: int = 0, limit: int = 50
) -> list[Notification]:
    """The customer's in-app notices (PUSH), oldest first, those after `after_id`."""
    found = await session.exec(
        select(Notification)
        .where(
            Notification.username == username,
            Notification.kind == ChannelKind.PUSH,
            col(Notification.id) > after_id,
        )
        .order_by(col(Notification.id))
        .limit(limit)
    )
    return list(found.all())


async def mark_sent(*, session: AsyncSession, notification_id: int) -> None:
    """Note that the mail server accepted the message."""
    message = await session.get(Notification, notification_id)
    if message is None:
        raise NotFoundError("Уведомление не найдено")
    message.sent_at = utcnow()
    session.add(message)


METHOD_LABELS = {
    "WALLET": "кошелёк",
    "GIFT_CARD": "подарочная карта",
    "BANK_CARD": "банковская карта",
    "SBP": "СБП",
}


# A payment's reference is an order id, or a purchase's id `{kind}-{uuid}` (its kind first).
PURCHASES = {"giftcard": "подарочной карты", "topup": "пополнения кошелька"}


def result_mail(
    *,
    kind: str,
    order_id: str,
    success: bool,
    amount_kopecks: int,
    detail: str,
    store_url: str,
    method: str = "",
    masked: str = "",
) -> tuple[str, str]:
    """Subject and body of a payment result or a refund of a late bank payment (Format 3), or an
    order outcome (Format 2)."""
    amount = format_roubles(amount_kopecks)
    means = " ".join(filter(None, [METHOD_LABELS.get(method, method), masked]))
    paid_by = f"\nСпособ оплаты: {means}" if means else ""
    purchase = PURCHASES.get(order_id.partition("-")[0])
    what, link = (
        (purchase, f"{store_url}/purchase/{order_id}")
        if purchase
        else (f"заказа {order_id[:8]}", f"{store_url}/checkout/{order_id}/result")
    )
    if kind == "PAYMENT":
        subject = f"Оплата {what}: " + ("успешно" if success else "не прошла")
        outcome = (
            f"Платёж на {amount} прошёл." if success else f"Платёж на {amount} не прошёл: {detail}"
        ) + paid_by
    elif kind == "REFUND":
        subject = "Возврат платежа " + (
            f"— оплата {purchase}" if purchase else f"по заказу {order_id[:8]}"
        )
        outcome = f"{detail}. Мы вернули {amount}.{paid_by}"
    else:
        subject = f"Заказ {order_id[:8]} " + (
            "оплачен и передан в доставку" if success else "не оформлен"
        )
        outcome = (
            f"Заказ оплачен ({amount}). {detail}"
            if success
            else f"Заказ не оформлен: {detail}. Деньги, если были списаны, возвращены."
        )
    body = (
        f"Здравствуйте!\n\n{outcome}\n\nПодробнее: {link}\n"
        f"Время: {to_moscow(utcnow()):%d.%m.%Y %H:%M} (МСК)\n— Команда Shopflow\n"
    )
    return subject, body


def welcome_mail(*, first_name: str, username: str, store_url: str) -> tuple[str, str]:
    """Subject and plain-text body of the welcome mail."""
    subject = "Добро пожаловать в Shopflow"
    body = (
        f"Здравствуйте, {first_name}!\n\n"
        f"Вы зарегистрировались в интернет-магазине Shopflow с логином «{username}».\n"
        f"Кошелёк открыт, баланс {format_roubles(0)}. Войти в магазин: {store_url}/login\n\n"
        "Если это были не вы, просто проигнорируйте это письмо.\n"
        "— Команда Shopflow\n"
    )
    return subject, body


def delivery_notice(
    *,
    order_id: str,
    detail: str,
    kind: str,
    point_address: str,
    home_address: str,
    delivery_date: str,
    slot: str,
    store_url: str,
) -> tuple[str, str]:
    """Subject and body of a delivery notice (Format 4: the order, and where and when the shopper
    gets it: the pickup point's address and date, or the home address, date and slot)."""
    subject = f"Заказ {order_id[:8]}: {detail}"
    if kind == "PICKUP":
        where = f"Пункт выдачи: {point_address}\nДата: {delivery_date}"
    else:
        where = f"Адрес доставки: {home_address}\nДата: {delivery_date}" + (
            f"\nВремя доставки: {slot}" if slot else ""
        )
    body = (
        f"Здравствуйте!\n\n{detail}.\n\n{where}\n\n"
        f"Заказ: {store_url}/orders/{order_id}\n— Команда Shopflow\n"
    )
    return subject, body


# Where the grantee's mail carries the activation code. The stored message keeps this marker: the
# code is put in only as the mail is handed to the mail server, so it is never in the database.
CODE_MARKER = "{activation_code}"


def gift_card_mail(
    *,
    grantee_name: str,
    buyer: str,
    amount_kopecks: int,
    postcard_title: str,
    postcard_url: str,
    store_url: str,
) -> tuple[str, str]:
    """Subject and body (with CODE_MARKER where the code goes) of a gift card's mail."""
    subject = f"Вам подарочная карта Shopflow на {format_roubles(amount_kopecks)}"
    body = (
        f"Здравствуйте, {grantee_name}!\n\n"
        f"{buyer} дарит вам подарочную карту магазина Shopflow на "
        f"{format_roubles(amount_kopecks)}.\n"
        f"Открытка «{postcard_title}»: {postcard_url}\n\n"
        f"Код активации: {CODE_MARKER}\n\n"
        f"Активируйте карту в личном кабинете: {store_url}/giftcard/activate — и платите ею за "
        f"покупки: {store_url}/catalog\n"
        "— Команда Shopflow\n"
    )
    return subject, body


# Where the e-mail change mail carries its confirmation link (it holds the token): filled in as
# the mail is handed over, never stored.
LINK_MARKER = "{confirmation_link}"


def email_change_mail(*, username: str, hours: int) -> tuple[str, str]:
    """Subject and body (with LINK_MARKER where the link goes) of the mail confirming an e-mail
    change, sent to the NEW address (the account's channel keeps the old one until then)."""
    subject = "Подтвердите новый e-mail в Shopflow"
    body = (
        f"Здравствуйте!\n\nДля учётной записи «{username}» запрошена смена e-mail на этот "
        f"адрес. Чтобы подтвердить её, откройте ссылку в течение {hours} ч:\n{LINK_MARKER}\n\n"
        "Если это были не вы, просто проигнорируйте письмо: e-mail останется прежним.\n"
        "— Команда Shopflow\n"
    )
    return subject, body
