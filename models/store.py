"""store tables: warehouses/shops, categories, products, stock per product per store; and the JSON
shapes of the store contracts (spec section 4, store)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Enum, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import CamelModel, Roubles


class StoreBase(SQLModel):
    name: str = Field(max_length=120)
    address: str = Field(max_length=300)


class Store(StoreBase, table=True):
    """A shop or warehouse that holds stock (the spec's «магазин» / «склад»)."""

    __tablename__ = "store_store"

    id: int | None = Field(default=None, primary_key=True)


class Category(SQLModel, table=True):
    __tablename__ = "store_category"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    slug: str = Field(max_length=40, unique=True)


class Product(SQLModel, table=True):
    __tablename__ = "store_product"
    __table_args__ = (
        CheckConstraint("price_kopecks > 0", name="product_price_positive"),
        # A category's page by popularity or price, read in index order, either way round
        # (migration 0011); the home page's bestsellers.
        Index("ix_store_product_category_sold", "category_id", "sold", "id"),
        Index("ix_store_product_category_price", "category_id", "price_kopecks", "id"),
        Index("ix_store_product_sold", "sold", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))
    price_kopecks: int
    category_id: int = Field(foreign_key="store_category.id", index=True)
    # Units sold: popularity. Raised when checkout turns a hold into a sale, lowered when a sale
    # is given back (services/stock.py); the sample catalogue starts with plausible figures.
    sold: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class SearchWord(SQLModel, table=True):
    """A word of the catalogue's names and descriptions as written (lower case, ё→е), its stem,
    and how many products use it: what a mistyped query word is corrected to (core/spelling.py).
    Written with the search index (services/store.py index_products)."""

    __tablename__ = "store_search_word"

    id: int | None = Field(default=None, primary_key=True)
    word: str = Field(max_length=64, unique=True)
    stem: str = Field(max_length=64)
    products: int = 0


class Stock(SQLModel, table=True):
    """Units of a product in a store. `reserved` units are held for checkouts in progress."""

    __tablename__ = "store_stock"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="stock_quantity_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= quantity", name="stock_reserved_within"),
    )

    product_id: int = Field(foreign_key="store_product.id", primary_key=True, ondelete="CASCADE")
    store_id: int = Field(foreign_key="store_store.id", primary_key=True, index=True)
    quantity: int = 0
    reserved: int = 0


class StorePublic(CamelModel):
    id: int
    name: str
    address: str


class ProductPlace(CamelModel):
    store: StorePublic
    quantity: int


class ProductAvailability(CamelModel):
    """GET /store/get: how many units of a product each store has available."""

    product_id: int
    product_places: list[ProductPlace]


class ProductCard(CamelModel):
    """A search result card: name, price, image and availability in the different stores."""

    id: int
    name: str
    price: Roubles
    image_url: str
    category: str
    product_places: list[ProductPlace]

    @property
    def total_available(self) -> int:
        return sum(place.quantity for place in self.product_places)


class SearchPage(CamelModel):
    query: str
    page: int
    page_size: int
    has_more: bool
    items: list[ProductCard]
    # When the query as typed found nothing: the corrected query these items were found for
    # («Вы искали: …»); pages after the first are asked with it.
    corrected: str | None = None


class Suggestion(CamelModel):
    """GET /store/suggest: a product offered while the shopper types."""

    id: int
    name: str


class CategoryRef(CamelModel):
    id: int
    name: str
    slug: str


class CategorySummary(CategoryRef):
    """A category with how many products it has; counting stops at a cap (`count_capped`)."""

    product_count: int
    count_capped: bool = False


class CategoryPage(CamelModel):
    """GET /store/category: a page of a category's products, sorted and filtered as asked."""

    category: CategoryRef
    sort: str
    price_from: Roubles | None = None
    price_to: Roubles | None = None
    store_id: int | None = None
    page: int
    page_size: int
    has_more: bool
    items: list[ProductCard]


class CategoryShelf(CamelModel):
    category: CategoryRef
    items: list[ProductCard]


class Showcase(CamelModel):
    """The goods to look at first: the categories, the bestsellers, and a few categories' own."""

    categories: list[CategorySummary]
    popular: list[ProductCard]
    shelves: list[CategoryShelf]


class HoldState(StrEnum):
    HELD = "HELD"  # soft reservation: counted in `reserved`, released on expiry
    CONFIRMED = "CONFIRMED"  # taken out of stock for a paid order
    RELEASED = "RELEASED"  # given back


class StockHold(SQLModel, table=True):
    """Units of one product in one store held for one order's checkout."""

    __tablename__ = "store_hold"
    __table_args__ = (
        UniqueConstraint("order_id", "product_id", "store_id", name="one_hold_per_line_and_store"),
        CheckConstraint("quantity > 0", name="hold_quantity_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(max_length=36, index=True)
    product_id: int = Field(foreign_key="store_product.id")
    store_id: int = Field(foreign_key="store_store.id")
    quantity: int
    state: HoldState = Field(
        sa_column=Column(Enum(HoldState, native_enum=False, length=10), nullable=False)
    )


class PickingCase(SQLModel, table=True):
    """The warehouse's task to pick a paid order's items («кейс на комплектацию»)."""

    __tablename__ = "store_picking_case"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(max_length=36, unique=True)
    status: str = Field(default="OPEN", max_length=12)  # OPEN, CANCELED
