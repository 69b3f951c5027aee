"""A customer put straight into auth's tables (the steps the registration workflow runs), for
service tests that need an account and no workflow."""

from __future__ import annotations

from core.db import SessionFactory, transaction
from services import auth

PASSWORD = "correct horse"


async def add_user(
    sessions: SessionFactory, username: str = "alice", *, email: str = "", password: str = PASSWORD
) -> str:
    """Алиса Иванова with this login (e-mail `<login>@example.ru` unless given) and password;
    the id of the credential she was created from."""
    async with transaction(sessions) as session:
        credential = await auth.stash_credential(
            session=session, password_hash=auth.hash_password(password)
        )
    async with transaction(sessions) as session:
        await auth.create_user(
            session=session,
            username=username,
            first_name="Алиса",
            last_name="Иванова",
            email=email or f"{username}@example.ru",
            phone="+79123456789",
            credential_id=credential,
        )
    return credential
