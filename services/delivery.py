"""delivery: pickup points and the store's own courier slots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import ConflictError, NotFoundError, ValidationError
from core.text import normalize
from models.delivery import DeliveryCase, DeliverySlot, PickupPoint

MAX_FILTER_CHARS = 200
MAX_ADDRESS_CHARS = 300
OWN_COURIER = "Shopflow Курьер"
OWN_COURIER_COST_KOPECKS = 29_900
OWN_COURIER_CITIES = ("москва",)
SLOT_WINDOWS = ("10:00-14:00", "14:00-18:00", "18:00-22:00")


@dataclass(frozen=True)
class Offer:
    """One way to deliver to an address: who, for how much, by when."""

    company_name: str
    cost_kopecks: int
    estimated_date: date


def check_address(address: str) -> str:
    """The address, trimmed, or ValidationError when it is empty or too long."""
    cleaned = " ".join(address.split())
    if len(cleaned) < 3:
        raise ValidationError("Укажите адрес доставки", fields={"address": "пустой адрес"})
    if len(cleaned) > MAX_ADDRESS_CHARS:
        raise ValidationError(
            f"Адрес длиннее {MAX_ADDRESS_CHARS} символов", fields={"address": "слишком длинный"}
        )
    return cleaned


async def add_pickup_point(*, session: AsyncSession, name: str, address: str) -> PickupPoint:
    """A new pickup point."""
    point = PickupPoint(name=name, address=address, search_key=normalize(f"{name} {address}"))
    session.add(point)
    await session.flush()
    return point


async def list_pickup_points(
    *, session: AsyncSession, address_filter: str = ""
) -> list[PickupPoint]:
    """Pickup points whose name or address contains the filter (any case; ё = е)."""
    if len(address_filter) > MAX_FILTER_CHARS:
        raise ValidationError(f"Фильтр длиннее {MAX_FILTER_CHARS} символов")
    statement = select(PickupPoint).order_by(col(PickupPoint.id))
    needle = normalize(address_filter.strip())
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(col(PickupPoint.search_key).like(f"%{escaped}%", escape="\\"))
    return list((await session.exec(statement.limit(200))).all())


async def open_slots(*, session: AsyncSession, first_day: date, days: int, capacity: int) -> int:
    """Create the own couriers' delivery windows for `days` days from `first_day` (idempotent)."""
    existing = set(
        (
            await session.exec(
                select(col(DeliverySlot.day), col(DeliverySlot.window)).where(
                    col(DeliverySlot.day) >= first_day,
                    col(DeliverySlot.day) < first_day + timedelta(days=days),
                )
            )
        ).all()
    )
    created = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for window in SLOT_WINDOWS:
            if (day, window) not in existing:
                session.add(DeliverySlot(day=day, window=window, capacity=capacity))
                created += 1
    await session.flush()
    return created


async def next_free_slot(*, session: AsyncSession, after: date) -> DeliverySlot | None:
    """The earliest own-courier window after `after` with room left."""
    statement = (
        select(DeliverySlot)
        .where(
            col(DeliverySlot.day) > after, col(DeliverySlot.reserved) < col(DeliverySlot.capacity)
        )
        .order_by(col(DeliverySlot.day), col(DeliverySlot.window))
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def own_courier_offer(*, session: AsyncSession, address: str, today: date) -> Offer | None:
    """The store's own courier, for addresses in its cities while it has a free window."""
    if not any(city in normalize(address) for city in OWN_COURIER_CITIES):
        return None
    slot = await next_free_slot(session=session, after=today)
    if slot is None:
        return None
    return Offer(OWN_COURIER, OWN_COURIER_COST_KOPECKS, slot.day)


async def get_pickup_point(*, session: AsyncSession, point_id: int) -> PickupPoint:
    """The pickup point, or NotFoundError."""
    point = await session.get(PickupPoint, point_id)
    if point is None:
        raise NotFoundError("Пункт выдачи не найден")
    return point


async def open_case(
    *,
    session: AsyncSession,
    order_id: str,
    kind: str,
    company_name: str,
    address: str,
    pickup_point_id: int | None,
    cost_kopecks: int,
    estimated_date: date,
) -> DeliveryCase:
    """Open the order's delivery case (idempotent per order). The store's own courier books a
    window now; when none is left, ConflictError."""
    existing = (
        await session.exec(select(DeliveryCase).where(DeliveryCase.order_id == order_id))
    ).first()
    if existing is not None and existing.status == "OPEN":
        return existing
    slot_id = None
    if kind == "COURIER" and company_name == OWN_COURIER:
        slot = await next_free_slot(session=session, after=estimated_date - timedelta(days=1))
        booked = (
            slot is not None
            and (
                await session.exec(
                    update(DeliverySlot)
                    .where(
                        col(DeliverySlot.id) == slot.id,
                        col(DeliverySlot.reserved) < col(DeliverySlot.capacity),
                    )
                    .values(reserved=col(DeliverySlot.reserved) + 1)
                )
            ).rowcount
            == 1
        )
        if not booked or slot is None:
            raise ConflictError("Свободных окон доставки больше нет: выберите другой способ")
        slot_id, estimated_date = slot.id, slot.day
    case = existing or DeliveryCase(
        order_id=order_id, kind=kind, address=address, estimated_date=estimated_date
    )
    case.kind, case.company_name, case.address = kind, company_name, address
    case.pickup_point_id, case.slot_id, case.cost_kopecks = pickup_point_id, slot_id, cost_kopecks
    case.estimated_date, case.status = estimated_date, "OPEN"
    session.add(case)
    await session.flush()
    return case


async def cancel_case(*, session: AsyncSession, order_id: str) -> bool:
    """Cancel the order's delivery case and free its courier window (idempotent)."""
    case = (
        await session.exec(select(DeliveryCase).where(DeliveryCase.order_id == order_id))
    ).first()
    if case is None or case.status == "CANCELED":
        return False
    if case.slot_id is not None:
        await session.exec(
            update(DeliverySlot)
            .where(col(DeliverySlot.id) == case.slot_id, col(DeliverySlot.reserved) > 0)
            .values(reserved=col(DeliverySlot.reserved) - 1)
        )
    case.status = "CANCELED"
    session.add(case)
    await session.flush()
    return True
