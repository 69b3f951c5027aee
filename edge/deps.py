"""Dependencies of the API and the web pages, as Annotated aliases: what a route needs from the
application (settings, a database session, the flows), built from the app's state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Cookie, Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.couriers import CourierGateway
from core.db import SessionFactory, transaction
from core.errors import AuthError, ForbiddenError
from core.settings import Settings
from edge.session import SESSION_COOKIE, SSO_PENDING_COOKIE, SSO_STATE_COOKIE
from flows.catalogue import Catalogue
from flows.checkout import Checkouts
from flows.engine import TemporalClient
from flows.fulfilment import Fulfilments
from flows.purchase import Purchases
from flows.sso import Providers
from models.auth import OPERATOR, User
from services import auth


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session_factory(request: Request) -> SessionFactory:
    factory: SessionFactory = request.app.state.session_factory
    return factory


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request; committed when the handler returns, rolled back on an error."""
    async with (await get_session_factory(request))() as session, session.begin():
        yield session


async def get_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A bare connection for read-only queries on hot paths (search): no ORM session to build."""
    async with request.app.state.engine.connect() as conn:
        yield conn


async def get_couriers(request: Request) -> CourierGateway:
    couriers: CourierGateway = request.app.state.couriers
    return couriers


async def get_client_address(request: Request) -> str:
    """The client's address as the server sees it (X-Forwarded-For is not trusted)."""
    return request.client.host if request.client else ""


async def get_temporal(request: Request) -> TemporalClient:
    temporal: TemporalClient = await request.app.state.temporal()
    return temporal


async def get_checkouts(request: Request) -> Checkouts:
    return Checkouts(
        sessions=await get_session_factory(request),
        temporal=await get_temporal(request),
        settings=await get_settings(request),
    )


async def get_fulfilments(request: Request) -> Fulfilments:
    return Fulfilments(
        sessions=await get_session_factory(request),
        temporal=await get_temporal(request),
        settings=await get_settings(request),
    )


async def get_purchases(request: Request) -> Purchases:
    return Purchases(temporal=await get_temporal(request), settings=await get_settings(request))


async def get_catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


async def get_sso(request: Request) -> Providers:
    providers: Providers = request.app.state.sso
    return providers


SettingsDep = Annotated[Settings, Depends(get_settings)]
SsoDep = Annotated[Providers, Depends(get_sso)]
SsoStateCookie = Annotated[str | None, Cookie(alias=SSO_STATE_COOKIE)]
SsoPendingCookie = Annotated[str | None, Cookie(alias=SSO_PENDING_COOKIE)]
# scope="function": the transaction commits before the response is sent, so the next request
# (the page a browser loads right after a 200) always sees the change. With the default
# "request" scope FastAPI would commit only after sending the response.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SessionFactoryDep = Annotated[SessionFactory, Depends(get_session_factory)]
ConnectionDep = Annotated[AsyncConnection, Depends(get_connection, scope="function")]
CouriersDep = Annotated[CourierGateway, Depends(get_couriers)]
TemporalDep = Annotated[TemporalClient, Depends(get_temporal)]
CheckoutsDep = Annotated[Checkouts, Depends(get_checkouts)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
PurchasesDep = Annotated[Purchases, Depends(get_purchases)]
FulfilmentsDep = Annotated[Fulfilments, Depends(get_fulfilments)]
ClientAddress = Annotated[str, Depends(get_client_address)]
SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]


async def get_current_user(request: Request, token: SessionCookie = None) -> User:
    """The shopper behind the session cookie. Its own short transaction: a handler that then
    waits on a workflow must not hold a database connection meanwhile."""
    async with transaction(await get_session_factory(request)) as session:
        return await auth.authenticate(
            session=session,
            token=token,
            idle=timedelta(minutes=(await get_settings(request)).session_idle_minutes),
        )


async def get_optional_user(request: Request, token: SessionCookie = None) -> User | None:
    try:
        return await get_current_user(request, token)
    except AuthError:
        return None


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_current_operator(user: CurrentUser) -> User:
    """The signed-in operator: 401 without a session, 403 for a shopper."""
    if user.role != OPERATOR:
        raise ForbiddenError(OPERATORS_ONLY)
    return user


OPERATORS_ONLY = "Раздел только для операторов"
CurrentOperator = Annotated[User, Depends(get_current_operator)]
