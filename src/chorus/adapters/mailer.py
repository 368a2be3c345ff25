"""Outgoing mail for tasks: SMTP when ``CHORUS_SMTP_URL`` is set, otherwise one ``.eml`` file per mail.

Each mail has a key (its task's id, or what it covers) and is recorded under it with a Message-ID before it is
first sent: a redelivered task finds it sent and sends nothing, and a mail sent again because the server's answer
was lost carries the same Message-ID, which mail clients show once.
Worker-only: the API never imports this module (it queues a task instead), so it loads no mail transport.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy.exc import IntegrityError

from chorus.config import get_settings
from chorus.db import task_session
from chorus.models import MailDelivery, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def compose(mail: Mail, *, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = get_settings().mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id
    # 8bit keeps links on one line, readable when a newcomer opens the file.
    message.set_content(mail.text, cte="8bit")
    message.add_alternative(mail.html, subtype="html", cte="8bit")
    return message


def deliver(mail: Mail, *, key: str) -> bool:
    """Send ``mail`` unless the mail under ``key`` was sent already; whether it was sent now."""
    message_id = _message_id_unless_sent(key)
    if message_id is None:
        logger.info("mail %s was sent already: not sending it again", key)
        return False
    message = compose(mail, message_id=message_id)
    smtp_url = get_settings().smtp_url
    if smtp_url:
        _send_smtp(message, smtp_url)
    else:
        _write_file(message, get_settings().mail_dir, key)
    with task_session() as session:
        session.get_one(MailDelivery, key).sent_at = utcnow()
        session.commit()
    return True


def _message_id_unless_sent(key: str) -> str | None:
    """The Message-ID recorded for ``key`` (recorded now if this is the first attempt); None once it was sent."""
    with task_session() as session:
        delivery = session.get(MailDelivery, key)
        if delivery is None:
            delivery = MailDelivery(key=key, message_id=make_msgid(domain="chorus.localhost"))
            session.add(delivery)
            try:
                session.commit()
            except IntegrityError:  # a twin delivery recorded it first
                session.rollback()
                delivery = session.get_one(MailDelivery, key)
        return None if delivery.sent_at is not None else delivery.message_id


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
