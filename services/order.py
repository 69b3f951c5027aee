"""order: the shopper's orders, their items, statuses and versions (optimistic locking).

Product names, prices and stock limits come from the caller (read from store first): the order
domain keeps its own copy of what the shopper agreed to and never reads store's tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import ConflictError, NotFoundError, OutOfStockError, StaleVersionError
from core.money import to_roubles
from core.timeutil import utcnow
from models.order import (
    MAX_ITEMS,
    MAX_QUANTITY,
    Order,
    OrderItem,
    OrderItemPublic,
    OrderPublic,
    OrderStatus,
    ProductSummary,
)

EDITABLE = frozenset({OrderStatus.NEW})


@dataclass(frozen=True)
class Line:
    """A wanted position with the catalogue's facts about its product."""

    product_id: int
    name: str
    price_kopecks: int
    quantity: int
    available: int  # units on sale across all stores right now


@dataclass(frozen=True)
class OrderView:
    order: Order
    items: list[OrderItem]

    @property
    def total_kopecks(self) -> int:
        return sum(item.price_kopecks * item.quantity for item in self.items)

    def public(self) -> OrderPublic:
        return OrderPublic(
            id=self.order.id,
            status=self.order.status,
            version=self.order.version,
            failure_reason=self.order.failure_reason,
            total=to_roubles(self.total_kopecks),
            order_items=[
                OrderItemPublic(
                    id=item.id or 0,
                    product=ProductSummary(
                        id=item.product_id,
                        name=item.product_name,
                        price=to_roubles(item.price_kopecks),
                    ),
                    quantity=item.quantity,
                )
                for item in self.items
            ],
        )


def merge_lines(lines: Iterable[Line]) -> list[Line]:
    """One line per product (quantities of repeats added), checked against stock and limits."""
    merged: dict[int, Line] = {}
    for line in lines:
        if line.product_id in merged:
            first = merged[line.product_id]
            line = Line(
                line.product_id,
                line.name,
                line.price_kopecks,
                first.quantity + line.quantity,
                line.available,
            )
        merged[line.product_id] = line
    if len(merged) > MAX_ITEMS:
        raise ConflictError(f"В заказе может быть не больше {MAX_ITEMS} позиций")
    for line in merged.values():
        if line.available <= 0:
            raise OutOfStockError(f"«{line.name}» нет в наличии ни в одном магазине")
        if line.quantity > min(line.available, MAX_QUANTITY):
            raise OutOfStockError(
                f"«{line.name}»: можно заказать не больше {min(line.available, MAX_QUANTITY)} шт."
            )
    return list(merged.values())


async def _items(session: AsyncSession, order_id: str) -> list[OrderItem]:
    found = await session.exec(
        select(OrderItem).where(OrderItem.order_id == order_id).order_by(col(OrderItem.id))
    )
    return list(found.all())


async def _write_items(session: AsyncSession, order_id: str, lines: Sequence[Line]) -> None:
    await session.exec(delete(OrderItem).where(col(OrderItem.order_id) == order_id))
    session.add_all(
        OrderItem(
            order_id=order_id,
            product_id=line.product_id,
            product_name=line.name,
            price_kopecks=line.price_kopecks,
            quantity=line.quantity,
        )
        for line in lines
    )
    await session.flush()


async def get_order(*, session: AsyncSession, username: str, order_id: str) -> OrderView:
    """The shopper's order with its items; another shopper's order is NotFoundError too."""
    order = await session.get(Order, order_id)
    if order is None or order.username != username:
        raise NotFoundError("Заказ не найден")
    return OrderView(order, await _items(session, order_id))


async def open_order(*, session: AsyncSession, username: str) -> OrderView | None:
    """The shopper's cart: the order still in NEW, if any."""
    order = (
        await session.exec(
            select(Order).where(Order.username == username, Order.status == OrderStatus.NEW)
        )
    ).first()
    return None if order is None else OrderView(order, await _items(session, order.id))


async def orders_of(*, session: AsyncSession, username: str, limit: int = 50) -> list[OrderView]:
    """The shopper's orders that left the cart (not NEW; MERGED ones live on in the cart), newest
    first, with their items."""
    found = await session.exec(
        select(Order)
        .where(
            Order.username == username,
            col(Order.status).not_in([OrderStatus.NEW, OrderStatus.MERGED]),
        )
        .order_by(col(Order.created_at).desc(), col(Order.id))
        .limit(limit)
    )
    orders = list(found.all())
    if not orders:
        return []
    rows = await session.exec(
        select(OrderItem)
        .where(col(OrderItem.order_id).in_([o.id for o in orders]))
        .order_by(col(OrderItem.id))
    )
    items: dict[str, list[OrderItem]] = {o.id: [] for o in orders}
    for item in rows.all():
        items[item.order_id].append(item)
    return [OrderView(o, items[o.id]) for o in orders]


async def place_order(
    *, session: AsyncSession, username: str, lines: Sequence[Line], order_id: str | None = None
) -> OrderView:
    """A new order in NEW with these lines. A retry with the same id returns the first result;
    a shopper has one open order (the cart) at a time."""
    if order_id is not None:
        existing = await session.get(Order, order_id)
        if existing is not None:
            if existing.username != username:
                raise ConflictError("Этот идентификатор заказа уже занят")
            return OrderView(existing, await _items(session, order_id))
    if await open_order(session=session, username=username) is not None:
        raise ConflictError("У вас уже есть открытый заказ: измените его в корзине")
    checked = merge_lines(lines)
    order = Order(id=order_id or str(uuid.uuid4()), username=username, status=OrderStatus.NEW)
    try:
        async with session.begin_nested():
            session.add(order)
    except IntegrityError as exc:  # a twin request created the cart a moment ago
        raise ConflictError("У вас уже есть открытый заказ: измените его в корзине") from exc
    await _write_items(session, order.id, checked)
    return OrderView(order, await _items(session, order.id))


async def _advance(
    session: AsyncSession,
    *,
    username: str,
    order_id: str,
    version: int,
    allowed_from: frozenset[OrderStatus],
    **changes: object,
) -> Order:
    """Move the order to `version + 1` with `changes`, only from `version` and an allowed status."""
    result = await session.exec(
        update(Order)
        .where(
            col(Order.id) == order_id,
            col(Order.username) == username,
            col(Order.version) == version,
            col(Order.status).in_(allowed_from),
        )
        .values(version=version + 1, updated_at=utcnow(), **changes)
    )
    if result.rowcount == 1:
        order = await session.get(Order, order_id, populate_existing=True)
        assert order is not None
        return order
    current = (await get_order(session=session, username=username, order_id=order_id)).order
    if current.version != version:
        raise StaleVersionError(
            "Заказ изменился в другой вкладке или на другом устройстве: показана актуальная версия"
        )
    raise ConflictError(f"Заказ в статусе {current.status}: это действие сейчас недоступно")


async def adjust_order(
    *, session: AsyncSession, username: str, order_id: str, version: int, lines: Sequence[Line]
) -> OrderView:
    """Replace the items of a NEW order (version must match)."""
    checked = merge_lines(lines)
    order = await _advance(
        session, username=username, order_id=order_id, version=version, allowed_from=EDITABLE
    )
    await _write_items(session, order_id, checked)
    return OrderView(order, await _items(session, order_id))


async def add_to_cart(*, session: AsyncSession, username: str, line: Line) -> OrderView:
    """Put `line` into the shopper's cart: a new order when there is none, else one more item."""
    cart = await open_order(session=session, username=username)
    if cart is None:
        return await place_order(session=session, username=username, lines=[line])
    lines = [
        Line(
            i.product_id,
            i.product_name,
            i.price_kopecks,
            i.quantity,
            line.available if i.product_id == line.product_id else MAX_QUANTITY,
        )
        for i in cart.items
    ]
    return await adjust_order(
        session=session,
        username=username,
        order_id=cart.order.id,
        version=cart.order.version,
        lines=[*lines, line],
    )


async def cancel_order(
    *, session: AsyncSession, username: str, order_id: str, version: int
) -> OrderView:
    """Cancel a NEW order."""
    order = await _advance(
        session,
        username=username,
        order_id=order_id,
        version=version,
        allowed_from=EDITABLE,
        status=OrderStatus.CANCELED,
    )
    return OrderView(order, await _items(session, order_id))


async def move_checkout(
    *,
    session: AsyncSession,
    order_id: str,
    to: OrderStatus,
    allowed_from: frozenset[OrderStatus],
    **details: object,
) -> OrderView:
    """Checkout's own status changes (no client version: checkout owns the order meanwhile).

    Idempotent: an order already in `to` is returned as it is; any other state than
    `allowed_from` is ConflictError. Each change bumps the version, so open tabs notice it.
    """
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFoundError("Заказ не найден")
    if order.status == to:
        return OrderView(order, await _items(session, order_id))
    if order.status not in allowed_from:
        raise ConflictError(f"Заказ в статусе {order.status}: оформление невозможно")
    for name, value in details.items():
        setattr(order, name, value)
    order.status, order.version, order.updated_at = to, order.version + 1, utcnow()
    session.add(order)
    await session.flush()
    return OrderView(order, await _items(session, order_id))


CHECKOUT_STARTS_FROM = frozenset({OrderStatus.NEW})
CHECKOUT_RUNNING = frozenset({OrderStatus.IN_PROGRESS})


MERGED_INTO = "Товары перенесены в корзину "


async def return_to_cart(*, session: AsyncSession, order_id: str, reason: str = "") -> OrderView:
    """Checkout gives the order back (the shopper went back, or it expired); answers the cart
    that now holds its goods.

    The order becomes the cart again (NEW) — unless the shopper opened another cart meanwhile
    (one per shopper): then its goods join that cart, quantities of the same product added up to
    the limit, and the order is closed as MERGED. Idempotent: a retry answers the same cart.
    """
    order = await session.get(Order, order_id, with_for_update=True)
    if order is None:
        raise NotFoundError("Заказ не найден")
    if order.status == OrderStatus.NEW:
        return OrderView(order, await _items(session, order_id))
    if order.status == OrderStatus.MERGED:
        cart_id = order.failure_reason.removeprefix(MERGED_INTO)
        merged_into = await session.get(Order, cart_id)
        if merged_into is not None:
            return OrderView(merged_into, await _items(session, cart_id))
        raise ConflictError("Корзина, в которую перенесены товары, не найдена")
    if order.status not in CHECKOUT_RUNNING:
        raise ConflictError(f"Заказ в статусе {order.status}: вернуть его в корзину нельзя")
    open_cart = await open_order(session=session, username=order.username)
    if open_cart is None:
        try:
            async with session.begin_nested():
                return await move_checkout(
                    session=session,
                    order_id=order_id,
                    to=OrderStatus.NEW,
                    allowed_from=CHECKOUT_RUNNING,
                    failure_reason=reason,
                )
        except IntegrityError:  # a cart was opened at this very moment: merge into it
            await session.refresh(order)
            open_cart = await open_order(session=session, username=order.username)
            if open_cart is None:
                raise
    return await _merge_into(session, order, open_cart)


async def _merge_into(session: AsyncSession, order: Order, cart: OrderView) -> OrderView:
    quantities: dict[int, int] = {}
    named: dict[int, OrderItem] = {}
    for item in [*cart.items, *await _items(session, order.id)]:
        quantities[item.product_id] = min(
            MAX_QUANTITY, quantities.get(item.product_id, 0) + item.quantity
        )
        named.setdefault(item.product_id, item)
    lines = [
        Line(pid, named[pid].product_name, named[pid].price_kopecks, quantity, MAX_QUANTITY)
        for pid, quantity in quantities.items()
    ]
    await _write_items(session, cart.order.id, lines)
    cart.order.version, cart.order.updated_at = cart.order.version + 1, utcnow()
    session.add(cart.order)
    await move_checkout(
        session=session,
        order_id=order.id,
        to=OrderStatus.MERGED,
        allowed_from=CHECKOUT_RUNNING,
        failure_reason=f"{MERGED_INTO}{cart.order.id}",
    )
    return OrderView(cart.order, await _items(session, cart.order.id))


OPERATORS_SEE = (OrderStatus.PAID, OrderStatus.COMPLETED, OrderStatus.CANCELED)


async def paid_orders(*, session: AsyncSession, limit: int, offset: int = 0) -> list[Order]:
    """Orders the operators work with (PAID, COMPLETED, CANCELED), newest first."""
    rows = await session.exec(
        select(Order)
        .where(col(Order.status).in_(OPERATORS_SEE))
        .order_by(col(Order.created_at).desc(), col(Order.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all())
