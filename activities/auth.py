"""auth activities."""

from __future__ import annotations

from temporalio import activity

from activities.errors import domain_errors
from core.db import SessionFactory, transaction
from models.payloads import Changed, RegistrationInput, UserRef
from services import auth


class AuthActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @activity.defn(name="auth.create_user")
    @domain_errors
    async def create_user(self, data: RegistrationInput) -> UserRef:
        async with transaction(self._sessions) as session:
            user = await auth.create_user(
                session=session,
                username=data.username,
                first_name=data.first_name,
                last_name=data.last_name,
                email=data.email,
                phone=data.phone,
                credential_id=data.credential_id,
            )
            assert user.id is not None
            return UserRef(username=user.username, user_id=user.id)

    @activity.defn(name="auth.delete_user")
    @domain_errors
    async def delete_user(self, data: RegistrationInput) -> Changed:
        async with transaction(self._sessions) as session:
            removed = await auth.delete_user(
                session=session, username=data.username, registration_ref=data.credential_id
            )
            return Changed(changed=removed)
