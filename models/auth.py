"""auth tables and the JSON shapes of the auth contracts (spec section 4, auth)."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import field_validator
from sqlalchemy import Column
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


class UserBase(SQLModel):
    username: str = Field(max_length=32, unique=True, index=True)
    first_name: str = Field(max_length=64)
    last_name: str = Field(default="", max_length=64)
    email: str = Field(max_length=254, unique=True, index=True)
    phone: str = Field(max_length=16)


class User(UserBase, table=True):
    __tablename__ = "auth_user"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    registration_ref: str = Field(max_length=64, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class UserSession(SQLModel, table=True):
    """A login. Only the SHA-256 of the cookie value is stored, so a leaked table opens nothing."""

    __tablename__ = "auth_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="auth_user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PendingCredential(SQLModel, table=True):
    """A password hash waiting for its registration workflow to create the user.

    It keeps the hash out of workflow history: the workflow carries only this row's id.
    """

    __tablename__ = "auth_pending_credential"

    id: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


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


def _check(pattern: str, value: str, message: str) -> str:
    if not re.fullmatch(pattern, value):
        raise ValueError(message)
    return value


class RegisterRequest(CamelModel):
    """POST /auth/register body. `username` is the login; `firstName`/`lastName` are the name."""

    username: str
    first_name: str
    last_name: str = ""
    email: str
    phone: str
    password: str

    @field_validator("username", "first_name", "last_name", "email", "phone", mode="before")
    @classmethod
    def _strip(cls, v: object) -> object:
        return v.strip() if isinstance(v, str) else v

    @field_validator("username")
    @classmethod
    def _username(cls, v: str) -> str:
        return _check(USERNAME_PATTERN, v, "логин: 3–32 символа, латинские буквы, цифры, _ . -")

    @field_validator("first_name")
    @classmethod
    def _first_name(cls, v: str) -> str:
        return _check(NAME_PATTERN, v, "имя: буквы, пробел, дефис; до 64 символов")

    @field_validator("last_name")
    @classmethod
    def _last_name(cls, v: str) -> str:
        return v and _check(NAME_PATTERN, v, "фамилия: буквы, пробел, дефис; до 64 символов")

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if len(v) > EMAIL_MAX:
            raise ValueError(f"e-mail: не длиннее {EMAIL_MAX} символов")
        return _check(EMAIL_PATTERN, v, "e-mail вида name@example.ru").lower()

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        return normalize_phone(_check(PHONE_PATTERN, v, "телефон вида +7 912 345-67-89"))

    @field_validator("password")
    @classmethod
    def _password(cls, v: str) -> str:
        if not PASSWORD_MIN <= len(v) <= PASSWORD_MAX:
            raise ValueError(f"пароль: от {PASSWORD_MIN} до {PASSWORD_MAX} символов")
        return v


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
