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

from sqlalchemy import Connection, update
from sqlalchemy.dialects import postgresql, sqlite
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


def record_deliveries(connection: Connection, keys: list[str]) -> dict[str, str | None]:
    """For a batch, in the caller's transaction and one statement: each key's Message-ID (recorded now for a first
    attempt), or None for a mail sent already."""
    if not keys:
        return {}
    insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(MailDelivery)
    now = utcnow()
    rows = insert.values(
        [{"key": key, "message_id": make_msgid(domain="chorus.localhost"), "created_at": now} for key in keys]
    )
    # A no-op update on conflict, so that the rows recorded before come back too, with their own Message-ID.
    upsert = rows.on_conflict_do_update(index_elements=[MailDelivery.key], set_={"key": rows.excluded.key})
    answer = connection.execute(upsert.returning(MailDelivery.key, MailDelivery.message_id, MailDelivery.sent_at))
    return {key: None if sent_at is not None else message_id for key, message_id, sent_at in answer}


def record_delivered(connection: Connection, keys: list[str]) -> None:
    """The batch's mails that left, in the caller's transaction and one statement."""
    if keys:
        connection.execute(update(MailDelivery).where(MailDelivery.key.in_(keys)).values(sent_at=utcnow()))


class Transport:
    """Sends a batch's mails: over one SMTP connection, opened on the first mail and closed at the end, or as files.
    A mail's failure does not close it: the caller decides whether the rest of the batch can still go."""

    def __init__(self) -> None:
        self.smtp_url = get_settings().smtp_url
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *_: object) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                self._client.close()

    def send(self, message: EmailMessage, key: str) -> None:
        if not self.smtp_url:
            _write_file(message, get_settings().mail_dir, key)
            return
        if self._client is None:
            self._client = _connect(self.smtp_url)
        self._client.send_message(message)


def _write_file(message: EmailMessage, folder: Path, key: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{key}.eml"
    partial = folder / f".{key}.eml.partial"
    partial.write_bytes(message.as_bytes())
    os.replace(partial, final)  # readers never see half a mail


def _send_smtp(message: EmailMessage, smtp_url: str) -> None:
    with _connect(smtp_url) as client:
        client.send_message(message)


def _connect(smtp_url: str) -> smtplib.SMTP:
    """``smtp://`` (STARTTLS when offered), ``smtps://`` (implicit TLS), credentials in the URL if any."""
    url = urlsplit(smtp_url)
    host = url.hostname or "localhost"
    context = ssl.create_default_context()
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=30, context=context)
    else:
        client = smtplib.SMTP(host, url.port or 25, timeout=30)
    try:
        client.ehlo()
        if url.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
    except BaseException:
        client.close()
        raise
    return client
