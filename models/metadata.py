"""Every table of every domain on one MetaData, for Alembic and for test databases."""

from sqlmodel import SQLModel

from models import auth, billing, notification, payment

metadata = SQLModel.metadata

__all__ = ["auth", "billing", "metadata", "notification", "payment"]
