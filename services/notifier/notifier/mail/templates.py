"""The emails the notifier sends, rendered from a queued delivery at the moment it is sent.

Every email is multipart: a plain-text part and an HTML part from the same template (account
emails are written as text and laid out in HTML; the others are Jinja templates in
``notifier.mail.layouts``). Links are built from ``PUBLIC_BASE_URL``. Every email about a kind
of notification carries RFC 8058 one-click unsubscribe headers with a signed link that turns off
that kind. A password-reset token is decrypted here and nowhere else; the rendered message lives
only in memory on its way to the SMTP server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote

from notifier.mail import layouts
from notifier.mail.tokens import MailTokenCipher, UndecryptableToken
from notifier.mail.unsubscribe import UnsubscribeSigner
from packyard.events import format_time


class CannotRender(Exception):
    """This email can never be sent (unknown template, undecryptable or expired token)."""


@dataclass(frozen=True)
class Outgoing:
    """What the sender read from a delivery row to render and send one email."""

    id: str
    claim_id: str
    recipient: str
    template: str
    context: dict[str, Any]
    token_ciphertext: str | None = None
    expires_at: datetime | None = None
    user_id: str | None = None


def mask_address(address: str) -> str:
    """``a***@example.com``: enough for the owner to recognise, not enough to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class Renderer:
    def __init__(self, *, cipher: MailTokenCipher, public_base_url: str, mail_from: str,
                 clock: Callable[[], datetime], unsubscribe: UnsubscribeSigner | None = None) -> None:
        self._cipher = cipher
        self._unsubscribe = unsubscribe
        self._base = public_base_url.rstrip("/")
        self._from = mail_from
        self._clock = clock
        self._domain = parseaddr(mail_from)[1].rpartition("@")[2] or "packyard.localhost"
        self._templates: dict[str, Callable[[Outgoing], tuple[str, str]]] = {
            "welcome": self._welcome,
            "email_confirmation": self._email_confirmation,
            "email_changed_notice": self._email_changed_notice,
            "password_reset": self._password_reset,
            "password_changed_notice": self._password_changed_notice,
        }

    def message_id(self, delivery_id: str) -> str:
        """Stable across retries, so a receiving server or client can drop a repeated copy."""
        return f"<{delivery_id}@{self._domain}>"

    def unsubscribe_url(self, user_id: str, kind: str) -> str:
        assert self._unsubscribe is not None
        return f"{self._base}/notifications/unsubscribe/{self._unsubscribe.token(user_id, kind)}"

    def render(self, item: Outgoing) -> EmailMessage:
        template = self._templates.get(item.template)
        unsubscribe: str | None = None
        kind = item.context.get("kind")
        if isinstance(kind, str) and item.user_id and self._unsubscribe is not None:
            unsubscribe = self.unsubscribe_url(item.user_id, kind)
        if template is not None:
            subject, body = template(item)
            html = layouts.text_as_html(subject, body)
        elif item.template in layouts.TEMPLATES:
            try:
                subject, body, html = layouts.render(item.template, {**item.context, "base": self._base,
                                                                    "unsubscribe_url": unsubscribe})
            except Exception as exc:  # noqa: BLE001 - a context the template cannot use never renders
                raise CannotRender(f"template {item.template!r} failed: {type(exc).__name__}: {exc}") from None
        else:
            raise CannotRender(f"unknown email template {item.template!r}")
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = item.recipient
        message["Subject"] = subject
        message["Date"] = format_datetime(self._clock())
        message["Message-ID"] = self.message_id(item.id)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
        # Plain ASCII stays 7bit so links survive intact in the raw message (no soft line breaks).
        if unsubscribe is not None:
            message["List-Unsubscribe"] = f"<{unsubscribe}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(body, cte="7bit" if body.isascii() and _short_lines(body) else "quoted-printable")
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        return message

    # -- templates: (subject, body) ----------------------------------------------------------
    def _welcome(self, item: Outgoing) -> tuple[str, str]:
        name = item.context["username"]
        return f"Welcome to Packyard, {name}", (
            f"Hello {name},\n\n"
            f"your Packyard account is ready.\n\n"
            f"To publish from your build tools, create an API key (POST {self._base}/me/apikey) and use it\n"
            f"with your username as HTTP Basic credentials. Your profile: {self._base}/users/{quote(name)}\n\n"
            f"You receive this email because this address was used to sign up on Packyard.\n")

    def _email_confirmation(self, item: Outgoing) -> tuple[str, str]:
        name = item.context["username"]
        return "Your Packyard email address was changed", (
            f"Hello {name},\n\n"
            f"this is now the email address of your Packyard account {name}.\n"
            f"Notifications and password resets will be sent here from now on.\n")

    def _email_changed_notice(self, item: Outgoing) -> tuple[str, str]:
        name = item.context["username"]
        return "Your Packyard email address was changed", (
            f"Hello {name},\n\n"
            f"the email address of your Packyard account {name} was changed from this address\n"
            f"to {mask_address(item.context['email'])}. This address will not receive its emails any more.\n\n"
            f"If you did not make this change, someone may have taken over your account: tell the\n"
            f"administrators of {self._base} right away, answering from this address.\n")

    def _password_changed_notice(self, item: Outgoing) -> tuple[str, str]:
        name = item.context["username"]
        how = "reset with a link sent to this address" if item.context.get("reset") else "changed"
        key = ("Your API key was revoked with it: generate a new one in your profile.\n"
               if item.context.get("api_key_revoked") else "")
        return "Your Packyard password was changed", (
            f"Hello {name},\n\n"
            f"the password of your Packyard account {name} was just {how}. Every login made with the\n"
            f"old password has been signed out.\n{key}\n"
            f"If you did not do this, someone may have taken over your account: reset your password at\n"
            f"{self._base} right away, revoke your API key, and tell the administrators.\n")

    def _password_reset(self, item: Outgoing) -> tuple[str, str]:
        name = item.context["username"]
        if item.expires_at is not None and item.expires_at <= self._clock():
            raise CannotRender("the password-reset link expired before it could be sent")
        if not item.token_ciphertext:
            raise CannotRender("the password-reset email has no token")
        try:
            token = self._cipher.decrypt(item.token_ciphertext)
        except UndecryptableToken as exc:
            raise CannotRender(str(exc)) from None
        until = f", until {format_time(item.expires_at)}" if item.expires_at else ""
        return "Reset your Packyard password", (
            f"Hello {name},\n\n"
            f"someone, hopefully you, asked to reset the password of your Packyard account {name}.\n"
            f"Open this link to choose a new password:\n\n"
            f"    {self._base}/reset-password?token={quote(token, safe='')}\n\n"
            f"or set it through the API: POST {self._base}/auth/password-reset/confirm with\n\n"
            f'    {{"token": "{token}", "new_password": "<your new password>"}}\n\n'
            f"The link works once{until}.\n"
            f"If you did not ask for this, ignore this email: your password stays as it is.\n")


def _short_lines(text: str) -> bool:
    return all(len(line) <= 990 for line in text.splitlines())
