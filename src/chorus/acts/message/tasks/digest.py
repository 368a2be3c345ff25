"""Mail digests of unread messages: one mail per thread and window to each participant who has not read.

A sweep (every minute) finds participants whose oldest unread, not yet mailed message is older than
``CHORUS_DIGEST_DELAY_MINUTES`` and queues one digest each, covering everything unread up to now.

Sending is three steps, and only the mail itself is outside a transaction: the digest is claimed under (thread,
recipient, last message covered) in a short transaction committed before the mail goes out, so no row stays locked
while the mail server is slow (the recipient's own post, which moves their read marker, never waits for it); then
the mail is sent; then a second short transaction records it sent. A redelivered task or a second sweep that finds
the digest sent, failed, or claimed by a run that may still be sending, sends nothing. A claim older than the task
time limit was left by a worker that died mid-send: a later run takes it over and sends (the first mail may have
left already: at least once, and never again once the record says sent). A passing outage during the send gives
the claim back, so the task's retry claims it again at once.

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chorus.adapters.outbox import queue_task
from chorus.adapters.transient_errors import is_transient
from chorus.celery import app
from chorus.config import get_settings
from chorus.db import task_session
from chorus.models import Digest, Message, Participant, Thread, User, utcnow

if TYPE_CHECKING:
    from chorus.adapters.mailer import Mail

MESSAGES_IN_DIGEST = 20
EXCERPT_CHARS = 300
SWEEP_BATCH = 1000
FAILURE_CHARS = 500
# What a claim's age is measured against when the Celery app sets no time limit, and the clocks' margin.
DEFAULT_TIME_LIMIT = 300
CLOCK_SKEW = timedelta(seconds=60)

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
            queue_task(session, send_digest, str(thread_id), str(user_id), upto_seq)
        session.commit()
    return len(due)


@dataclass(frozen=True)
class Claim:
    """A digest this run has claimed (committed, so it holds no lock) and the mail it sends."""

    claimed_at: datetime
    mail: Mail


def claims_abandoned_before(now: datetime) -> datetime:
    """Claims made before this were left by a run that is no more: every run ends by the task time limit (the
    worker kills it there), and a margin covers clocks of two workers that disagree a little."""
    return now - timedelta(seconds=app.conf.task_time_limit or DEFAULT_TIME_LIMIT) - CLOCK_SKEW


def _owed(session: Session, thread_id: uuid.UUID, user_id: uuid.UUID, upto_seq: int) -> Participant | None:
    """The participant, locked until the session's (short) transaction ends, if the digest is still owed: not
    mailed, and not read meanwhile. On PostgreSQL, runs for one recipient queue here, each seeing what the one
    before it committed; SQLite takes no row locks, and a second claim of one digest fails on its primary key."""
    participant = session.get(Participant, (thread_id, user_id), with_for_update=True)
    if participant is None or participant.read_seq >= upto_seq or participant.notified_seq >= upto_seq:
        return None
    return participant


def _claim(thread_id: uuid.UUID, user_id: uuid.UUID, upto_seq: int) -> Claim | None:
    """Claim the digest and compose its mail in one short transaction, committed before anything is sent; None
    when it is not owed, sent or failed already, being sent by another run, or over the recipient's mail cap."""
    from chorus.adapters.rate_limits import hit_in_transaction, mails_per_hour

    now = utcnow()
    abandoned_before = claims_abandoned_before(now)
    with task_session() as session:
        participant = _owed(session, thread_id, user_id, upto_seq)
        if participant is None:
            return None
        digest = session.get(Digest, (thread_id, user_id, upto_seq))
        if digest is None:
            session.add(Digest(thread_id=thread_id, user_id=user_id, upto_seq=upto_seq, claimed_at=now))
            try:
                session.flush()
            except IntegrityError:
                return None  # claimed by another run meanwhile (possible where rows are not locked: SQLite)
        elif digest.sent_at is not None or digest.failed_at is not None:
            return None
        elif digest.claimed_at is not None and digest.claimed_at >= abandoned_before:
            return None  # another run is sending it
        else:
            digest.claimed_at = now  # released after an outage, or abandoned by a run that died
        # A digest of this thread for this recipient up to another message, in flight: this one waits for it
        # (a later sweep queues what is left), so the two never mail the same messages.
        in_flight = session.scalar(
            select(Digest.upto_seq)
            .where(
                Digest.thread_id == thread_id,
                Digest.user_id == user_id,
                Digest.upto_seq != upto_seq,
                Digest.sent_at.is_(None),
                Digest.failed_at.is_(None),
                Digest.claimed_at >= abandoned_before,
            )
            .limit(1)
        )
        if in_flight is not None:
            return None
        mail = _compose(session, participant, upto_seq)
        if not hit_in_transaction(session.connection(), mails_per_hour(), "mail", mail.to):
            return None  # not owed yet, only postponed: rolled back, and a later sweep queues it again
        session.commit()
    return Claim(claimed_at=now, mail=mail)


def _compose(session: Session, participant: Participant, upto_seq: int) -> Mail:
    """The digest's mail: what the participant has neither read nor been mailed, up to ``upto_seq``."""
    from chorus.adapters.mailer import Mail

    thread_id, since = participant.thread_id, max(participant.read_seq, participant.notified_seq)
    thread = session.get_one(Thread, thread_id)
    recipient = session.get_one(User, participant.user_id)
    unread = session.execute(
        select(Message.body, User.display_name)
        .outerjoin(User, User.id == Message.author_id)
        .where(
            Message.thread_id == thread_id,
            Message.seq > since,
            Message.seq <= upto_seq,
            Message.deleted_at.is_(None),
        )
        .order_by(Message.seq.desc())
        .limit(MESSAGES_IN_DIGEST)
    ).all()
    count = upto_seq - since
    title, name = one_line(thread.title), one_line(recipient.display_name)
    lines = [f"{one_line(author or 'Someone')}: {(body or '')[:EXCERPT_CHARS]}" for body, author in reversed(unread)]
    intro = f"{count} unread message{'s' if count != 1 else ''} in “{title}”:"
    link = f"{get_settings().public_url}/threads/{thread_id}"
    return Mail(
        to=recipient.email,
        subject=f"{count} unread in {title}",
        text=f"Hello {name},\n\n{intro}\n\n" + "\n".join(lines) + f"\n\nRead them: {link}\n",
        html=f"<p>Hello {escape(name)},</p><p>{escape(intro)}</p><ul>"
        + "".join(f"<li>{escape(line)}</li>" for line in lines)
        + f'</ul><p><a href="{escape(link)}">Read them</a></p>',
    )


def _release(thread_id: uuid.UUID, user_id: uuid.UUID, upto_seq: int, claimed_at: datetime) -> None:
    """Give back a claim whose mail a passing outage stopped, so the task's retry claims it again at once; if the
    database is out too, the claim is taken over once abandoned."""
    try:
        with task_session() as session:
            session.execute(
                update(Digest)
                .where(*_digest_is(thread_id, user_id, upto_seq), Digest.claimed_at == claimed_at)
                .values(claimed_at=None)
                .execution_options(synchronize_session=False)
            )
            session.commit()
    except Exception as error:
        if not is_transient(error):
            raise
        logger.warning(
            "could not release the claim on digest of thread %s for %s up to %d", thread_id, user_id, upto_seq
        )


def _mark_sent(thread_id: uuid.UUID, user_id: uuid.UUID, upto_seq: int) -> None:
    """Record the digest sent and the participant notified up to it: a short transaction after the mail left."""
    with task_session() as session:
        session.execute(
            update(Digest)
            .where(*_digest_is(thread_id, user_id, upto_seq), Digest.sent_at.is_(None), Digest.failed_at.is_(None))
            .values(sent_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Participant)
            .where(
                Participant.thread_id == thread_id,
                Participant.user_id == user_id,
                Participant.notified_seq < upto_seq,
            )
            .values(notified_seq=upto_seq)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _digest_is(thread_id: uuid.UUID, user_id: uuid.UUID, upto_seq: int) -> tuple[ColumnElement[bool], ...]:
    return Digest.thread_id == thread_id, Digest.user_id == user_id, Digest.upto_seq == upto_seq


@app.task(name="message.send_digest")
def send_digest(thread_id: str, user_id: str, upto_seq: int) -> bool:
    """Mail one digest; False when it was not owed (already sent, read in the meantime, or failed on its data)."""
    try:
        thread_uuid, user_uuid = uuid.UUID(thread_id), uuid.UUID(user_id)
    except ValueError:
        logger.error("digest task with malformed ids %r, %r: dropped", thread_id, user_id)
        return False
    try:
        return _mail_digest(thread_uuid, user_uuid, upto_seq)
    except Exception as error:
        if is_transient(error):
            raise  # retried with backoff (ChorusTask); the next sweep queues it again if the retries run out
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
        participant = _owed(session, thread_id, user_id, upto_seq)
        if participant is None:
            return
        digest = session.get(Digest, (thread_id, user_id, upto_seq))
        if digest is None:
            digest = Digest(thread_id=thread_id, user_id=user_id, upto_seq=upto_seq)
            session.add(digest)
        elif digest.sent_at is not None or digest.failed_at is not None:
            return
        digest.failed_at = utcnow()
        digest.failure = reason[:FAILURE_CHARS]
        participant.notified_seq = max(participant.notified_seq, upto_seq)
        session.commit()


def _mail_digest(thread_id: uuid.UUID, user_id: uuid.UUID, upto_seq: int) -> bool:
    """Claim (committed), send outside any transaction, then record it sent: no row is locked while SMTP talks."""
    from chorus.adapters.mailer import deliver

    claim = _claim(thread_id, user_id, upto_seq)
    if claim is None:
        return False
    try:
        deliver(claim.mail, key=f"digest-{thread_id}-{user_id}-{upto_seq}")
    except Exception as error:
        if is_transient(error):
            _release(thread_id, user_id, upto_seq, claim.claimed_at)
        raise
    _mark_sent(thread_id, user_id, upto_seq)
    return True
