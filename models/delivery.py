"""delivery tables: pickup points and the store's own courier slots; JSON shapes of the delivery
contracts (spec section 4, delivery)."""

from __future__ import annotations

from datetime import date

from pydantic import field_serializer
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import CamelModel, Roubles


class PickupPoint(SQLModel, table=True):
    __tablename__ = "delivery_pickup_point"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    address: str = Field(max_length=300)
    # Lower-cased name and address with ё → е: SQLite's lower() folds only ASCII letters.
    search_key: str = Field(max_length=430)


class DeliverySlot(SQLModel, table=True):
    """A window of a day in which the store's own couriers can deliver `capacity` orders."""

    __tablename__ = "delivery_slot"
    __table_args__ = (
        UniqueConstraint("day", "window", name="one_slot_per_window"),
        CheckConstraint("reserved >= 0 AND reserved <= capacity", name="slot_reserved_within"),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    window: str = Field(max_length=16)  # "10:00-14:00"
    capacity: int = 10
    reserved: int = 0


class DeliveryCase(SQLModel, table=True):
    """Delivery of one paid order: to a pickup point or by a courier to an address."""

    __tablename__ = "delivery_case"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(max_length=36, unique=True)
    kind: str = Field(max_length=8)  # COURIER, PICKUP
    company_name: str = Field(default="", max_length=120)
    address: str = Field(max_length=300)
    pickup_point_id: int | None = Field(default=None, foreign_key="delivery_pickup_point.id")
    slot_id: int | None = Field(default=None, foreign_key="delivery_slot.id")
    cost_kopecks: int = 0
    estimated_date: date
    status: str = Field(default="OPEN", max_length=12)  # OPEN, CANCELED, HANDED_OVER, DELIVERED


class PickupPointPublic(CamelModel):
    id: int
    name: str
    address: str


class PickupPoints(CamelModel):
    pickup_points: list[PickupPointPublic]


class DeliveryVariant(CamelModel):
    company_name: str
    cost: Roubles
    estimated_date: date

    @field_serializer("estimated_date")
    def _spec_date(self, value: date) -> str:
        # The spec writes dates as "dd.mm.yyyy".
        return value.strftime("%d.%m.%Y")


class DeliveryVariants(CamelModel):
    address: str
    variants: list[DeliveryVariant]
