"""Sending rendered emails to an SMTP server (smtplib), with failures sorted into kinds.

A failure is *permanent* when the server refused this message for good (a 5xx answer to its
recipient or its data): retrying cannot help. Anything else — the server unreachable, a 4xx
answer, a dropped connection, refused credentials — is worth retrying later.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol


class SendFailure(Exception):
    def __init__(self, message: str, *, permanent: bool = False, connection_lost: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.connection_lost = connection_lost


class Connection(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class Transport(Protocol):
    def connect(self) -> Connection: ...


class SmtpConnection:
    def __init__(self, smtp: smtplib.SMTP) -> None:
        self._smtp = smtp

    def send(self, message: EmailMessage) -> None:
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            raise SendFailure(f"recipient refused ({', '.join(map(str, codes))})",
                              permanent=all(code >= 500 for code in codes)) from None
        except smtplib.SMTPDataError as exc:
            raise SendFailure(f"message refused ({exc.smtp_code})", permanent=exc.smtp_code >= 500) from None
        except smtplib.SMTPServerDisconnected as exc:
            raise SendFailure(f"connection lost: {exc}", connection_lost=True) from None
        except smtplib.SMTPResponseException as exc:
            raise SendFailure(f"SMTP error {exc.smtp_code}", connection_lost=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailure(f"{type(exc).__name__}: {exc}", connection_lost=True) from None

    def close(self) -> None:
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()


class SmtpTransport:
    """Opens SMTP connections as configured (``SMTP_*`` settings)."""

    def __init__(self, host: str, port: int, *, username: str | None = None, password: str | None = None,
                 starttls: bool = False, timeout: float = 10.0) -> None:
        self.host, self.port = host, port
        self._username, self._password = username, password
        self._starttls = starttls
        self._timeout = timeout

    def connect(self) -> SmtpConnection:
        smtp: smtplib.SMTP | None = None
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self._timeout)
            smtp.ehlo()
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self._username is not None and self._password is not None:
                smtp.login(self._username, self._password)
        except (smtplib.SMTPException, OSError) as exc:
            if smtp is not None:
                smtp.close()
            raise SendFailure(f"cannot reach SMTP server {self.host}:{self.port}: {type(exc).__name__}: {exc}",
                              connection_lost=True) from None
        return SmtpConnection(smtp)
