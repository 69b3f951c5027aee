"""Every table of every domain on one MetaData, for Alembic and for test databases."""

from sqlmodel import SQLModel

from models import auth, billing, delivery, notification, operator, order, payment, store

metadata = SQLModel.metadata

__all__ = [
    "auth",
    "billing",
    "delivery",
    "metadata",
    "notification",
    "operator",
    "order",
    "payment",
    "store",
]
