"""An outside OpenID Connect provider (single sign-on): the authorization-code flow with PKCE,
state and nonce. Authlib makes the flow's secrets and URLs, joserfc checks the ID token (its
signature against the provider's published keys, issuer, audience, expiry and our nonce).

Every failure of the provider reaches the caller as an `SsoFailure` of a kind the edge can
explain to a shopper; nothing of the provider's own text is shown."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

FailureKind = Literal["unavailable", "rejected", "invalid"]
DISCOVERY = "/.well-known/openid-configuration"
METADATA_SECONDS = 300.0  # the provider's endpoints and keys are read again after this
LEEWAY_SECONDS = 60  # clock skew allowed on the ID token's times


class SsoFailure(Exception):
    """The provider could not be reached or answered wrongly (`unavailable`), refused the code
    (`rejected`: expired, used already, not ours), or its answer did not verify (`invalid`)."""

    def __init__(self, kind: FailureKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind: FailureKind = kind
        self.detail = detail


@dataclass(frozen=True)
class Authorization:
    """Where to send the shopper, and what to keep until the provider sends them back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: its subject and the claims it gave."""

    subject: str
    email: str
    email_verified: bool
    given_name: str
    family_name: str
    phone: str


@dataclass(frozen=True)
class _Metadata:
    authorization_endpoint: str
    token_endpoint: str
    keys: KeySet
    read_at: float


class OidcProvider:
    """One configured provider. `http` is shared by the caller (and closed by it)."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        http: httpx.AsyncClient,
        scope: str = "openid email profile phone",
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = http
        self._scope = scope
        self._metadata: _Metadata | None = None

    async def authorization(self, redirect_uri: str) -> Authorization:
        """A fresh state, nonce and PKCE verifier, and the provider's URL asking for a code."""
        metadata = await self._fresh_metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = add_params_to_uri(
            metadata.authorization_endpoint,
            [
                ("response_type", "code"),
                ("client_id", self._client_id),
                ("redirect_uri", redirect_uri),
                ("scope", self._scope),
                ("state", state),
                ("nonce", nonce),
                ("code_challenge", create_s256_code_challenge(verifier)),  # type: ignore[no-untyped-call]
                ("code_challenge_method", "S256"),
            ],
        )
        return Authorization(url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def identity(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> Identity:
        """Trade the code for tokens and read the verified ID token's claims."""
        metadata = await self._fresh_metadata()
        try:
            response = await self._http.post(
                metadata.token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": code_verifier,
                },
                auth=(self._client_id, self._client_secret),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise SsoFailure("unavailable", f"token endpoint: {exc!r}") from exc
        body = _json(response)
        if response.status_code in (400, 401):
            raise SsoFailure("rejected", str(body.get("error", response.status_code)))
        if response.status_code != 200 or not isinstance(body.get("id_token"), str):
            raise SsoFailure("unavailable", f"token endpoint answered {response.status_code}")
        return self._verified(body["id_token"], metadata.keys, nonce)

    def _verified(self, id_token: str, keys: KeySet, nonce: str) -> Identity:
        try:
            token = jwt.decode(id_token, keys)
            JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self._client_id},
                exp={"essential": True},
                sub={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise SsoFailure("invalid", f"ID token: {exc!r}") from exc
        claims = token.claims
        return Identity(
            subject=str(claims["sub"]),
            email=str(claims.get("email", "")).strip().lower(),
            email_verified=claims.get("email_verified") is True,
            given_name=str(claims.get("given_name", "")).strip(),
            family_name=str(claims.get("family_name", "")).strip(),
            phone=str(claims.get("phone_number", "")).strip(),
        )

    async def _fresh_metadata(self) -> _Metadata:
        now = time.monotonic()
        if self._metadata is not None and now - self._metadata.read_at < METADATA_SECONDS:
            return self._metadata
        config = await self._get(self.issuer + DISCOVERY)
        if str(config.get("issuer", "")).rstrip("/") != self.issuer:
            raise SsoFailure("invalid", "discovery names another issuer")
        try:
            keys = KeySet.import_key_set(await self._get(str(config["jwks_uri"])))  # type: ignore[arg-type]
            self._metadata = _Metadata(
                authorization_endpoint=str(config["authorization_endpoint"]),
                token_endpoint=str(config["token_endpoint"]),
                keys=keys,
                read_at=now,
            )
        except (KeyError, ValueError, JoseError) as exc:
            raise SsoFailure("unavailable", f"discovery: {exc!r}") from exc
        return self._metadata

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise SsoFailure("unavailable", f"{url}: {exc!r}") from exc
        if response.status_code != 200:
            raise SsoFailure("unavailable", f"{url} answered {response.status_code}")
        return _json(response)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
