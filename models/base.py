"""Base of the JSON shapes: camelCase on the wire (as the spec writes), snake_case in Python."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

# Ids and versions are PostgreSQL INTEGER columns: a number past them can never name a row, so it
# is refused at the edge (400) instead of reaching the database (SQLite overflows past 2**63).
MAX_DB_INT = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
Version = Annotated[int, Field(ge=0, le=MAX_DB_INT)]

# Free text from a request: no control characters (PostgreSQL cannot even store a NUL in text).
NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]*$"

# Roubles with two decimal places inside; a JSON number on the wire (the spec's `double`).
Roubles = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class CamelModel(BaseModel):
    """Plain pydantic, not SQLModel: these shapes are built per result row on hot paths, where
    SQLModel's table machinery costs ~6 µs an object for nothing."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)
