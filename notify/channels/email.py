"""Email over SMTP (aiosmtplib): a text part and an HTML part of the same message."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from core.models import Notification
from core.rules import Channel, Smtp
from notify.channels import DeliveryError
from notify.channels.escape import header_value


def email_message(message: Notification, channel: Channel, smtp: Smtp) -> EmailMessage:
    """The mail of `message`. Every header goes through `header_value`: a service name or
    an alert title carrying CR or LF must not end a header and start another."""
    mail = EmailMessage()
    headers = {
        "Subject": message.subject,
        "From": smtp.sender,
        "To": ", ".join(channel.to),
        "Date": format_datetime(message.at),
        # The same id on every try: mail clients show a retried message once.
        "Message-ID": make_msgid(idstring=header_value(message.id).replace(":", "."),
                                 domain="sereno"),
        "X-Sereno-Incident": message.incident_id,
    }  # fmt: skip
    for name, value in headers.items():
        mail[name] = header_value(value)
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


async def send_email(message: Notification, channel: Channel, smtp: Smtp | None) -> str:
    """Hand the message to the mail server; its answer, or DeliveryError."""
    if smtp is None:
        raise DeliveryError("no 'smtp:' in the notification rules", retryable=False)
    try:
        password = smtp.password.reveal() if smtp.password is not None else None
    except ValueError as e:
        raise DeliveryError(f"SMTP password: {e}", retryable=False) from e
    try:
        _, answer = await aiosmtplib.send(
            email_message(message, channel, smtp),
            hostname=smtp.host, port=smtp.port,
            username=smtp.username or None, password=password,
            use_tls=smtp.security == "tls", start_tls=smtp.security == "starttls",
            timeout=smtp.timeout.total_seconds(),
        )  # fmt: skip
    except aiosmtplib.SMTPResponseException as e:
        # 5xx is the server's final word on this message; 4xx asks to try later.
        raise DeliveryError(f"SMTP {e.code}: {e.message}", retryable=e.code < 500) from e
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
        raise DeliveryError(f"{type(e).__name__}: {e}") from e
    return f"SMTP: {answer}"
