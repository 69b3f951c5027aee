"""auth tables and the JSON shapes of the auth contracts (spec section 4, auth)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic import Field as Bounded
from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from core.timeutil import UTCDateTime, utcnow
from models.base import CamelModel

# One source for the rules: the server validates with them and the registration page renders them
# into the inputs' `pattern` attributes, so the browser checks exactly the same thing.
USERNAME_PATTERN = r"[A-Za-z0-9_.\-]{3,32}"
NAME_PATTERN = r"[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё' \-]{0,63}"
# No spaces, control characters (C0, DEL, C1), nor the characters an address header would need
# quoted (`<>()[]\,;:"`): such an address either cannot be delivered or breaks the header.
# Written for both engines: Python's `re` and the browser's `pattern` (a JavaScript RegExp in `v`
# mode, where `(` `)` `[` `]` `\` must be escaped in a class; its `\s` also has U+FEFF).
_EMAIL_CHAR = r'[^@\s\ufeff<>\(\)\[\]\\,;:"\x00-\x1f\x7f-\x9f]'
EMAIL_PATTERN = rf"{_EMAIL_CHAR}{{1,64}}@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}{{2,}}"
EMAIL_MAX = 254  # RFC 5321's limit on a forward path; the page's input has it as `maxlength`
PHONE_PATTERN = r"\+?[0-9][0-9 \(\)\-]{9,19}"
PASSWORD_MIN = 8
PASSWORD_MAX = 128
SHOPPER = "SHOPPER"
OPERATOR = "OPERATOR"


class UserBase(SQLModel):
    username: str = Field(max_length=32, unique=True, index=True)
    first_name: str = Field(max_length=64)
    last_name: str = Field(default="", max_length=64)
    email: str = Field(max_length=254, unique=True, index=True)
    phone: str = Field(max_length=16)


class User(UserBase, table=True):
    __tablename__ = "auth_user"

    id: int | None = Field(default=None, primary_key=True)
    # The login lowered, unique: `SP5A9044T` and `sp5a9044t` are one login (stored as typed in
    # `username`); services/auth.py sets it. (E-mails are lowered on the way in.)
    username_key: str = Field(max_length=32, unique=True)
    password_hash: str = Field(max_length=255)
    registration_ref: str = Field(max_length=64, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # SHOPPER or OPERATOR (the operators' area); granted by `shopflow operator <username>`.
    role: str = Field(default=SHOPPER, max_length=16, sa_column_kwargs={"server_default": SHOPPER})


class UserSession(SQLModel, table=True):
    """A login. Only the SHA-256 of the cookie value is stored, so a leaked table opens nothing."""

    __tablename__ = "auth_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="auth_user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Touched at most every SESSION_TOUCH (services/auth.py), not on every request.
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class LoginAttempt(SQLModel, table=True):
    """A login that did not open a session: a wrong password or an unknown login, for this login
    (lowered) from this client address. A successful login and a refused (limited) one leave no
    row; rows older than the window are pruned. services/auth_limits.py: login_limited counts them
    (core/attempts.py)."""

    __tablename__ = "auth_login_attempt"
    __table_args__ = (
        Index("ix_auth_login_attempt_username_at", "username", "at"),
        Index("ix_auth_login_attempt_address_at", "address", "at"),
        Index("ix_auth_login_attempt_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32)
    address: str = Field(max_length=64)  # the request's client host (IPv6 fits)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class RegistrationAttempt(SQLModel, table=True):
    """A registration tried (whatever came of it) for this e-mail (lowered; the column keeps the
    attempts tables' name) from this client address; rows older than the window are pruned.
    services/auth_limits.py: admit_registration counts them (core/attempts.py `admitted`)."""

    __tablename__ = "auth_registration_attempt"
    __table_args__ = (
        Index("ix_auth_registration_attempt_username_at", "username", "at"),
        Index("ix_auth_registration_attempt_address_at", "address", "at"),
        Index("ix_auth_registration_attempt_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=254)
    address: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PendingCredential(SQLModel, table=True):
    """A password hash waiting for its registration workflow to create the user.

    It keeps the hash out of workflow history: the workflow carries only this row's id.
    """

    __tablename__ = "auth_pending_credential"

    id: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(max_length=255)  # "" for an account signing in only through SSO
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # The outside identity (models/sso.py) the created user is linked to, in the same transaction.
    provider: str | None = Field(default=None, max_length=32)
    subject: str | None = Field(default=None, max_length=255)


def normalize_phone(raw: str) -> str:
    """'+7 (912) 345-67-89' and '8 912 345 67 89' both become '+79123456789'."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        digits = "7" + digits
    if not 11 <= len(digits) <= 15:
        raise ValueError("телефон: от 11 до 15 цифр, например +7 912 345-67-89")
    return "+" + digits


def _check(pattern: str, message: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _email(value: str) -> str:
    if len(value) > EMAIL_MAX:
        raise ValueError(f"e-mail: не длиннее {EMAIL_MAX} символов")
    if not re.fullmatch(EMAIL_PATTERN, value):
        raise ValueError("e-mail вида name@example.ru")
    return value.lower()


def _password(value: str) -> str:
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise ValueError(f"пароль: от {PASSWORD_MIN} до {PASSWORD_MAX} символов")
    return value


# The rules of each field as types: registration and the account's forms share them.
Stripped = BeforeValidator(_strip)
Username = Annotated[
    str, Stripped, _check(USERNAME_PATTERN, "логин: 3–32 символа, латинские буквы, цифры, _ . -")
]
FirstName = Annotated[
    str, Stripped, _check(NAME_PATTERN, "имя: буквы, пробел, дефис; до 64 символов")
]


def _last_name(value: str) -> str:
    """A last name may be left empty."""
    if value and not re.fullmatch(NAME_PATTERN, value):
        raise ValueError("фамилия: буквы, пробел, дефис; до 64 символов")
    return value


LastName = Annotated[str, Stripped, AfterValidator(_last_name)]
Email = Annotated[str, Stripped, AfterValidator(_email)]
Phone = Annotated[
    str,
    Stripped,
    _check(PHONE_PATTERN, "телефон вида +7 912 345-67-89"),
    AfterValidator(normalize_phone),
]
Password = Annotated[str, AfterValidator(_password)]


class NewCustomer(CamelModel):
    """Who registers. `username` is the login; `firstName`/`lastName` are the name."""

    username: Username
    first_name: FirstName
    last_name: LastName = ""
    email: Email
    phone: Phone


class RegisterRequest(NewCustomer):
    """POST /auth/register body: the customer and their password."""

    password: Password


class LoginRequest(CamelModel):
    username: str = ""
    password: str = ""


class UserPublic(CamelModel):
    """The user as the spec's contracts show it (no id, no hash)."""

    username: str
    first_name: str
    last_name: str
    email: str
    phone: str


class ProfileUpdate(CamelModel):
    """PUT /auth/profile body: the name and the phone, checked as at registration."""

    first_name: FirstName
    last_name: LastName = ""
    phone: Phone


class PasswordChange(CamelModel):
    """PUT /auth/password body (an account signing in only through a provider has no current
    password: it sets its first one without)."""

    current_password: str = ""
    new_password: Password


class EmailChangeBody(CamelModel):
    """POST /auth/email body: the address the confirmation link goes to."""

    email: Email


class EmailConfirmBody(CamelModel):
    """POST /auth/email/confirm body: the parameters of the mailed link."""

    username: str = Bounded(pattern=f"^{USERNAME_PATTERN}$")
    run: str = Bounded(pattern=r"^[0-9A-Za-z-]{1,64}$")
    counter: int = Bounded(ge=1, le=1_000_000)
    token: str = Bounded(pattern=r"^[A-Za-z0-9_-]{20,128}$")


class EmailChangePublic(CamelModel):
    """A pending (or just finished) e-mail change."""

    status: str
    new_email: str
    expires_at: datetime | None = None
    detail: str = ""


class SessionPublic(CamelModel):
    """A login as its owner sees it: never its token nor the token's hash."""

    started_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    current: bool


class SessionsPublic(CamelModel):
    sessions: list[SessionPublic]


class SessionsEnded(CamelModel):
    ended: int
