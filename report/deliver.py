"""Delivering the daily report where the configuration says: a folder, email, a webhook."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib

from core.config import EmailDelivery, ReportSettings, WebhookDelivery
from report.model import DailyReport
from report.render import Language, ReportFormat, render

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A delivery failed; the message says which and why. The others still went."""


def write_folder(folder: Path, report: DailyReport, language: Language) -> list[Path]:
    """daily-YYYY-MM-DD.html, .md and .json in `folder`, each written whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for report_format in ReportFormat:
        path = folder / f"daily-{report.date.isoformat()}.{report_format.value}"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(render(report, report_format, language), encoding="utf-8")
        partial.replace(path)
        written.append(path)
    return written


def email_message(email: EmailDelivery, report: DailyReport, language: Language) -> EmailMessage:
    """The report as an email: Markdown as the plain part, the HTML page as the rich one."""
    html = render(report, ReportFormat.HTML, language)
    markdown = render(report, ReportFormat.MARKDOWN, language)
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = markdown.splitlines()[0].lstrip("# ").strip()
    message.set_content(markdown)
    message.add_alternative(html, subtype="html")
    return message


async def send_email(email: EmailDelivery, report: DailyReport, language: Language) -> None:
    password = email.password.reveal().decode() if email.password else None
    try:
        await aiosmtplib.send(
            email_message(email, report, language),
            hostname=email.host,
            port=email.port,
            username=email.username or None,
            password=password,
            use_tls=email.use_tls,
            start_tls=None if email.starttls and not email.use_tls else False,
            timeout=email.timeout_s,
        )
    except (aiosmtplib.SMTPException, OSError) as e:
        raise DeliveryError(f"email to {email.host}:{email.port}: {e}") from e


async def post_webhook(webhook: WebhookDelivery, report: DailyReport) -> None:
    headers = {"Content-Type": "application/json"}
    if webhook.token is not None:
        headers["Authorization"] = "Bearer " + webhook.token.reveal().decode()
    timeout = aiohttp.ClientTimeout(total=webhook.timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(webhook.url, data=report.model_dump_json(), headers=headers) as answer,
        ):
            if answer.status >= 300:
                raise DeliveryError(f"webhook {webhook.url} answered {answer.status}")
    except (aiohttp.ClientError, TimeoutError) as e:
        raise DeliveryError(f"webhook {webhook.url}: {e}") from e


async def deliver(settings: ReportSettings, report: DailyReport, language: Language) -> list[str]:
    """Deliver `report` everywhere `settings` says; the problems of those that failed."""
    problems: list[str] = []
    if settings.folder is not None:
        try:
            write_folder(settings.folder, report, language)
        except OSError as e:
            problems.append(f"folder {settings.folder}: {e}")
    if settings.email is not None:
        try:
            await send_email(settings.email, report, language)
        except DeliveryError as e:
            problems.append(str(e))
    if settings.webhook is not None:
        try:
            await post_webhook(settings.webhook, report)
        except DeliveryError as e:
            problems.append(str(e))
    for problem in problems:
        log.error("daily report of %s not delivered: %s", report.date, problem)
    return problems
