"""Mail digests of unread messages: one mail per thread and window to each participant who has not read.

A sweep (every minute) finds participants whose oldest unread, not yet mailed message is older than
``CHORUS_DIGEST_DELAY_MINUTES`` and queues one digest each, covering everything unread up to now. The digest
is recorded under (thread, recipient, last message covered) before it is mailed, so a redelivered task or a
second sweep never sends it twice.

A digest that fails on its data (anything but a passing outage of the mail server, the disk or the database) fails
once: its record is marked failed with the reason and the participant counts as notified, so no sweep queues it
again. Outages are retried with backoff. A recipient's digests count against CHORUS_MAILS_PER_ADDRESS_PER_HOUR (with the
auth mails): over it the digest waits, unrecorded, and a later sweep sends one covering everything, once the hour
allows. Names and titles are flattened to one visible line before they go into a
mail, so rows stored before single-line fields were enforced cannot break a header.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from datetime import timedelta
from html import escape

from sqlalchemy import and_, case, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from chorus.celery import app
from chorus.config import get_settings
from chorus.db import task_session
from chorus.models import Digest, Message, Participant, Thread, User, utcnow

MESSAGES_IN_DIGEST = 20
EXCERPT_CHARS = 300
SWEEP_BATCH = 1000
FAILURE_CHARS = 500
# Passing outages: SMTP errors are OSErrors, as are a full disk and a refused connection; then the database's own.
TRANSIENT_ERRORS = (OSError, OperationalError, InterfaceError)

logger = logging.getLogger(__name__)


def one_line(text: str) -> str:
    """``text`` as one visible line: separators and controls become spaces, format characters (bidi overrides,
    zero-width spaces) go, but for the joiner that spells emoji."""
    return "".join(_flatten(ch) for ch in text)


def _flatten(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return " "
    return "" if category == "Cf" and ch != "\u200d" else ch


@app.task(name="message.send_unread_digests")
def send_unread_digests() -> int:
    """Queue a digest for each participant with unread messages older than the delay; how many were queued."""
    cutoff = utcnow() - timedelta(minutes=get_settings().digest_delay_minutes)
    covered = case(
        (Participant.read_seq > Participant.notified_seq, Participant.read_seq), else_=Participant.notified_seq
    )
    first_unmailed = Message.__table__.alias("first_unmailed")
    with task_session() as session:
        due = session.execute(
            select(Participant.thread_id, Participant.user_id, Thread.last_seq)
            .join(Thread, Thread.id == Participant.thread_id)
            .join(
                first_unmailed,
                and_(first_unmailed.c.thread_id == Participant.thread_id, first_unmailed.c.seq == covered + 1),
            )
            .join(User, User.id == Participant.user_id)
            .where(
                Thread.last_seq > covered,
                first_unmailed.c.created_at <= cutoff,
                User.deleted_at.is_(None),
                User.email_verified_at.is_not(None),
            )
            .limit(SWEEP_BATCH)
        ).all()
    for thread_id, user_id, upto_seq in due:
        send_digest.delay(str(thread_id), str(user_id), upto_seq)
    return len(due)


def _claim(
    session: Session, thread_id: uuid.UUID, user_id: uuid.UUID, upto_seq: int
) -> tuple[Participant, Digest] | None:
    """The participant and the digest's record, if it is still owed: not sent, and not read meanwhile."""
    participant = session.get(Participant, (thread_id, user_id), with_for_update=True)
    if participant is None or participant.read_seq >= upto_seq or participant.notified_seq >= upto_seq:
        return None
    digest = session.get(Digest, (thread_id, user_id, upto_seq))
    if digest is None:
        digest = Digest(thread_id=thread_id, user_id=user_id, upto_seq=upto_seq)
        session.add(digest)
        session.flush()
    return (participant, digest) if digest.sent_at is None and digest.failed_at is None else None


@app.task(name="message.send_digest", autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, max_retries=8)
def send_digest(thread_id: str, user_id: str, upto_seq: int) -> bool:
    """Mail one digest; False when it was not owed (already sent, read in the meantime, or failed on its data)."""
    try:
        thread_uuid, user_uuid = uuid.UUID(thread_id), uuid.UUID(user_id)
    except ValueError:
        logger.error("digest task with malformed ids %r, %r: dropped", thread_id, user_id)
        return False
    try:
        return _mail_digest(thread_uuid, user_uuid, upto_seq)
    except TRANSIENT_ERRORS:
        raise  # retried with backoff; the next sweep queues it again if the retries run out
    except Exception as error:
        logger.exception(
            "digest of thread %s for %s up to %d failed on its data: recorded, not retried",
            thread_id,
            user_id,
            upto_seq,
        )
        _record_failure(thread_uuid, user_uuid, upto_seq, f"{type(error).__name__}: {error}")
        return False


def _record_failure(thread_id: uuid.UUID, user_id: uuid.UUID, upto_seq: int, reason: str) -> None:
    """Mark the digest failed and the participant notified up to it, so no sweep queues it again."""
    with task_session() as session:
        claimed = _claim(session, thread_id, user_id, upto_seq)
        if claimed is None:
            session.rollback()
            return
        participant, digest = claimed
        digest.failed_at = utcnow()
        digest.failure = reason[:FAILURE_CHARS]
        participant.notified_seq = max(participant.notified_seq, upto_seq)
        session.commit()


def _mail_digest(thread_uuid: uuid.UUID, user_uuid: uuid.UUID, upto_seq: int) -> bool:
    from chorus.adapters.mailer import Mail, deliver
    from chorus.adapters.rate_limits import hit_in_transaction, mails_per_hour

    thread_id, user_id = str(thread_uuid), str(user_uuid)
    with task_session() as session:
        claimed = _claim(session, thread_uuid, user_uuid, upto_seq)
        if claimed is None:
            session.rollback()
            return False
        participant, digest = claimed
        since = max(participant.read_seq, participant.notified_seq)
        thread = session.get_one(Thread, thread_uuid)
        recipient = session.get_one(User, user_uuid)
        unread = session.execute(
            select(Message.body, User.display_name)
            .outerjoin(User, User.id == Message.author_id)
            .where(
                Message.thread_id == thread_uuid,
                Message.seq > since,
                Message.seq <= upto_seq,
                Message.deleted_at.is_(None),
            )
            .order_by(Message.seq.desc())
            .limit(MESSAGES_IN_DIGEST)
        ).all()
        count = upto_seq - since
        title, name = one_line(thread.title), one_line(recipient.display_name)
        lines = [
            f"{one_line(author or 'Someone')}: {(body or '')[:EXCERPT_CHARS]}" for body, author in reversed(unread)
        ]
        intro = f"{count} unread message{'s' if count != 1 else ''} in “{title}”:"
        link = f"{get_settings().public_url}/threads/{thread_id}"
        mail = Mail(
            to=recipient.email,
            subject=f"{count} unread in {title}",
            text=f"Hello {name},\n\n{intro}\n\n" + "\n".join(lines) + f"\n\nRead them: {link}\n",
            html=f"<p>Hello {escape(name)},</p><p>{escape(intro)}</p><ul>"
            + "".join(f"<li>{escape(line)}</li>" for line in lines)
            + f'</ul><p><a href="{escape(link)}">Read them</a></p>',
        )
        if not hit_in_transaction(session.connection(), mails_per_hour(), "mail", recipient.email):
            session.rollback()  # not owed yet, only postponed: a later sweep queues it again
            return False
        deliver(mail, key=f"digest-{thread_id}-{user_id}-{upto_seq}")
        digest.sent_at = utcnow()
        participant.notified_seq = max(participant.notified_seq, upto_seq)
        session.commit()
    return True
