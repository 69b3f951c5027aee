"""account activities: the e-mail change's confirmation mail and the change itself (auth's user,
then notification's e-mail channel)."""

from __future__ import annotations

from urllib.parse import urlencode

from temporalio import activity

from activities.errors import domain_errors
from activities.mail import deliver
from adapters.mailer import Mailer
from core.db import SessionFactory, transaction
from models.notification import ChannelKind
from models.payloads import Changed, MailResult
from models.payloads_account import ConfirmationMailInput, NewEmailInput
from services import auth, notification

# Settings.account_secret's default: what tests and `shopflow dev` sign links with.
DEV_ACCOUNT_SECRET = "dev-account-secret"  # noqa: S105 (a dev default, refused in production)


def confirmation_link(store_url: str, data: ConfirmationMailInput, token: str) -> str:
    """The link of the mail. Its parameters are in the fragment: a browser never sends that part
    to the server, so the token reaches no access log; the page posts it to
    POST /auth/email/confirm."""
    fragment = urlencode({"u": data.username, "r": data.run_id, "n": data.counter, "t": token})
    return f"{store_url}/account/email/confirm#{fragment}"


class AccountActivities:
    def __init__(
        self, session_factory: SessionFactory, mailer: Mailer, store_url: str, secret: str
    ) -> None:
        self._sessions = session_factory
        self._mailer = mailer
        self._store_url = store_url
        self._secret = secret

    @activity.defn(name="account.send_email_confirmation")
    @domain_errors
    async def send_email_confirmation(self, data: ConfirmationMailInput) -> MailResult:
        """Mail the link to the NEW address, once per request (the key is the run and counter);
        the token is computed here and goes only into the mail."""
        token = auth.email_change_token(
            secret=self._secret,
            workflow_id=data.workflow_id,
            run_id=data.run_id,
            counter=data.counter,
        )
        subject, body = notification.email_change_mail(username=data.username, hours=data.hours)
        return await deliver(
            self._sessions,
            self._mailer,
            f"{data.workflow_id}-{data.run_id}-{data.counter}",
            data.username,
            subject,
            body,
            address=data.new_email,
            fill={notification.LINK_MARKER: confirmation_link(self._store_url, data, token)},
        )

    @activity.defn(name="account.change_email")
    @domain_errors
    async def change_email(self, data: NewEmailInput) -> Changed:
        """auth: the user's e-mail (AlreadyExistsError if another customer took it meanwhile)."""
        async with transaction(self._sessions) as session:
            await auth.change_email(
                session=session, username=data.username, new_email=data.new_email
            )
        return Changed(True)

    @activity.defn(name="account.change_email_channel")
    @domain_errors
    async def change_email_channel(self, data: NewEmailInput) -> Changed:
        """notification: the e-mail channel follows the new address (the others keep theirs)."""
        async with transaction(self._sessions) as session:
            channels = await notification.get_channels(session=session, username=data.username)
            kept = {channel.kind: channel.address for channel in channels}
            await notification.create_account(
                session=session,
                username=data.username,
                email=data.new_email,
                phone=kept.get(ChannelKind.SMS, ""),
            )
        return Changed(True)
