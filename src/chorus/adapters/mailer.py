"""Outgoing mail for tasks: SMTP when ``CHORUS_SMTP_URL`` is set, otherwise one ``.eml`` file per mail.

Worker-only: the API never imports this module (it queues a task instead), so it loads no mail transport.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from chorus.config import get_settings
from chorus.models.base import utcnow


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def compose(mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = get_settings().mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="chorus.localhost")
    # 8bit keeps links on one line, readable when a newcomer opens the file.
    message.set_content(mail.text, cte="8bit")
    message.add_alternative(mail.html, subtype="html", cte="8bit")
    return message


def deliver(mail: Mail, *, key: str) -> None:
    """Send ``mail``; ``key`` names it, so delivering the same key twice writes one file (redelivered tasks)."""
    message = compose(mail)
    smtp_url = get_settings().smtp_url
    if smtp_url:
        _send_smtp(message, smtp_url)
    else:
        _write_file(message, get_settings().mail_dir, key)


def _write_file(message: EmailMessage, folder: Path, key: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{key}.eml"
    partial = folder / f".{key}.eml.partial"
    partial.write_bytes(message.as_bytes())
    os.replace(partial, final)  # readers never see half a mail


def _send_smtp(message: EmailMessage, smtp_url: str) -> None:
    """``smtp://`` (STARTTLS when offered), ``smtps://`` (implicit TLS), credentials in the URL if any."""
    url = urlsplit(smtp_url)
    host = url.hostname or "localhost"
    context = ssl.create_default_context()
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=30, context=context)
    else:
        client = smtplib.SMTP(host, url.port or 25, timeout=30)
    with client:
        client.ehlo()
        if url.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)
