"""order tables and the JSON shapes of the order contracts (spec section 4, order).

Statuses:
    NEW          the cart: the shopper adds, changes and removes items
    IN_PROGRESS  handed to checkout: stock is held, delivery and payment are being chosen
    PAID         paid; stock confirmed and the delivery case opened ("Оплачено")
    COMPLETED    delivered or picked up
    CANCELED     cancelled by the shopper before payment
    FAILED       checkout failed after it started; money, if taken, was returned
    MERGED       checkout gave it back while the shopper had another cart open: its goods
                 joined that cart (failure_reason names it)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field as PydanticField
from sqlalchemy import CheckConstraint, Column, Enum, Index, text
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow
from models.base import CamelModel, Id, Roubles, Version

MAX_ITEMS = 50
MAX_QUANTITY = 99
# An order id as a client names it: ours are UUIDs, a client's own (for safe retries) is 8–36 of
# these characters. Anything else can name no order.
ORDER_ID_PATTERN = r"^[A-Za-z0-9\-]+$"
OrderId = Annotated[str, PydanticField(min_length=1, max_length=36, pattern=ORDER_ID_PATTERN)]


class OrderStatus(StrEnum):
    NEW = "NEW"
    IN_PROGRESS = "IN_PROGRESS"
    PAID = "PAID"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"
    MERGED = "MERGED"


class Order(SQLModel, table=True):
    __tablename__ = "order_order"
    __table_args__ = (
        # One cart per shopper, even when two tabs create it at the same moment.
        Index(
            "one_open_order_per_customer",
            "username",
            unique=True,
            sqlite_where=text("status = 'NEW'"),
            postgresql_where=text("status = 'NEW'"),
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    username: str = Field(max_length=32, index=True)
    status: OrderStatus = Field(
        sa_column=Column(
            Enum(OrderStatus, native_enum=False, length=12), nullable=False, index=True
        )
    )
    version: int = 0
    failure_reason: str = Field(default="", max_length=500)
    # Filled in by checkout: what the shopper chose and paid.
    delivery_summary: str = Field(default="", max_length=400)
    delivery_cost_kopecks: int = 0
    payment_method: str = Field(default="", max_length=16)
    paid_kopecks: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class OrderItem(SQLModel, table=True):
    """One position. Name and price are copied from the catalogue when the item is put in, so the
    order shows what the shopper agreed to even if the catalogue changes later."""

    __tablename__ = "order_item"
    __table_args__ = (CheckConstraint("quantity > 0", name="order_item_quantity_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="order_order.id", index=True, ondelete="CASCADE")
    product_id: int
    product_name: str = Field(max_length=200)
    price_kopecks: int
    quantity: int


class ProductRef(CamelModel):
    id: Id


class ItemRequest(CamelModel):
    product: ProductRef
    quantity: int = PydanticField(ge=1, le=MAX_QUANTITY)


class PlaceRequest(CamelModel):
    """POST /order/place. `id` is optional: a client that sends one can retry safely."""

    id: str | None = PydanticField(
        default=None, min_length=8, max_length=36, pattern=ORDER_ID_PATTERN
    )
    order_items: list[ItemRequest] = PydanticField(min_length=1, max_length=MAX_ITEMS)


class ChangeRequest(CamelModel):
    """PUT /order/adjust, /order/cancel, /order/process: the order as the client last saw it."""

    id: OrderId
    version: Version
    order_items: list[ItemRequest] = PydanticField(default_factory=list, max_length=MAX_ITEMS)


class ProductSummary(CamelModel):
    id: int
    name: str
    price: Roubles


class OrderItemPublic(CamelModel):
    id: int
    product: ProductSummary
    quantity: int


class OrderPublic(CamelModel):
    id: str
    status: OrderStatus
    version: int
    order_items: list[OrderItemPublic]
    total: Roubles
    failure_reason: str = ""
