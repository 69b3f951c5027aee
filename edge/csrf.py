"""One defence against cross-site requests for the whole app, as pure ASGI middleware.

A state-changing request (POST, PUT, PATCH, DELETE; and GET /auth/logout, the spec's logout) is
refused with 403 in the spec's error shape when the browser says it came from another site:
- `Origin` present and neither the store's own origin (settings.public_url's scheme://host:port)
  nor the origin of the request's own `Host`;
- no `Origin`, and `Sec-Fetch-Site` present and not `same-origin` or `none` (a request the user
  made by typing the address or from a bookmark).
A request with neither header is not a browser's cross-site one (the bank's callback, our services
calling billing with X-Service-Key, the tests' clients) and passes. Nothing is exempt.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core.settings import Settings
from edge.errors import error_body

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# GETs that change state anyway: the spec's contract of logout is a GET.
STATE_CHANGING_GETS = frozenset({"/auth/logout"})
TRUSTED_FETCH_SITES = frozenset({b"same-origin", b"none"})
CROSS_SITE_MESSAGE = "Запрос отклонён: он пришёл с другого сайта"
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL, lower-case, default port left out."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class CrossSiteMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        # Read on each request: a test may move public_url once the app listens.
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._changes_state(scope) and self._cross_site(scope):
            response = JSONResponse(error_body(CROSS_SITE_MESSAGE), status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _changes_state(scope: Scope) -> bool:
        method = scope["method"].upper()
        return method in STATE_CHANGING or (
            method in ("GET", "HEAD") and scope["path"] in STATE_CHANGING_GETS
        )

    def _cross_site(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers", ()))
        origin = headers.get(b"origin")
        if origin is not None:
            return not self._own_origin(origin.decode("latin-1"), headers.get(b"host"))
        fetch_site = headers.get(b"sec-fetch-site")
        return fetch_site is not None and fetch_site.strip().lower() not in TRUSTED_FETCH_SITES

    def _own_origin(self, origin: str, host: bytes | None) -> bool:
        given = origin_of(origin)
        if given is None:  # "null" (a sandboxed frame, a file), or nonsense
            return False
        if given == origin_of(self.settings.public_url):
            return True
        if host is None:
            return False
        # The request's own Host, under either scheme (a proxy in front may end TLS).
        host_name = host.decode("latin-1")
        return given in {origin_of(f"{scheme}://{host_name}") for scheme in DEFAULT_PORTS}
