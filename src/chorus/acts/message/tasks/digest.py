"""Mail digests of unread messages: one mail per thread and window to each participant who has not read.

A sweep (every minute) finds participants whose oldest unread, not yet mailed message is older than
``CHORUS_DIGEST_DELAY_MINUTES`` and queues one digest each, covering everything unread up to now.

Digests go in batches of ``DIGEST_BATCH``, one task each, and each step of a batch is one statement for all of
its digests, so a digest costs a share of a few round trips instead of a dozen of its own. Sending is three steps,
and only the mails are outside a transaction: the batch is claimed under (thread, recipient, last message covered)
and its mails recorded with their Message-IDs in one short transaction committed before anything goes out, so no
row stays locked while the mail server is slow (the recipient's own post, which moves their read marker, never
waits for it; a participant row another run holds at that moment is skipped, and its digest left to a later
sweep); then the mails are sent, on one SMTP connection; then a second short transaction records the batch's
outcome. A redelivered task or a second sweep that finds a digest sent, failed, or claimed by a run that may still
be sending, sends nothing for it. A claim older than the task time limit was left by a worker that died mid-send: a
later run takes it over and sends (the first mail may have left already: at least once, with the same Message-ID,
and never again once the record says sent). A passing outage during the send gives back the claims of the mails
not sent, records the ones that left, and retries the batch, which then sends only what did not leave.

A digest that fails on its data (anything but a passing outage of the mail server, the disk or the database) fails
alone, once: the rest of its batch goes, its record is marked failed with the reason and the participant counts as
notified, so no sweep queues it again (a batch failing as a whole on anything but an outage is tried again one
digest at a time, so that the digest at fault is found). Outages are retried with backoff. A recipient's digests
count against CHORUS_MAILS_PER_ADDRESS_PER_HOUR (with the auth mails): over it the digest waits, unrecorded, and a
later sweep sends one covering everything, once the hour allows. Names and titles are flattened to one visible line
before they go into a mail, so rows stored before single-line fields were enforced cannot break a header.
"""

from __future__ import annotations

import logging
import smtplib
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, literal, or_, select, tuple_, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
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
# Digests per task: each step of a batch (claim, record the mails, record them sent) is one statement for all.
DIGEST_BATCH = 50
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
    """Queue a digest for each participant with unread messages older than the delay, in batches of
    ``DIGEST_BATCH`` per task; how many digests were queued."""
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
        for first in range(0, len(due), DIGEST_BATCH):
            batch = [
                [str(thread_id), str(user_id), upto_seq]
                for thread_id, user_id, upto_seq in due[first : first + DIGEST_BATCH]
            ]
            queue_task(session, send_digests, batch)
        session.commit()
    return len(due)


DigestKey = tuple[uuid.UUID, uuid.UUID, int]


@dataclass
class Owed:
    """A digest of the batch that is owed, with what its mail needs; ``mail`` once composed."""

    key: DigestKey
    since: int
    title: str
    email: str
    name: str
    mail: Mail | None = None

    @property
    def mail_key(self) -> str:
        thread_id, user_id, upto_seq = self.key
        return f"digest-{thread_id}-{user_id}-{upto_seq}"


@dataclass
class Outcome:
    """What became of a batch's claimed digests, recorded in one short transaction after the mails went out."""

    claimed_at: datetime
    sent: list[Owed] = field(default_factory=list)
    failed: dict[DigestKey, str] = field(default_factory=dict)
    released: list[DigestKey] = field(default_factory=list)
    outage: BaseException | None = None


def claims_abandoned_before(now: datetime) -> datetime:
    """Claims made before this were left by a run that is no more: every run ends by the task time limit (the
    worker kills it there), and a margin covers clocks of two workers that disagree a little."""
    return now - timedelta(seconds=app.conf.task_time_limit or DEFAULT_TIME_LIMIT) - CLOCK_SKEW


def _keys(digests: list[list[Any]]) -> list[DigestKey]:
    """The batch's digests, one per thread and recipient (a second for the same two would wait for the first)."""
    keys: dict[tuple[uuid.UUID, uuid.UUID], DigestKey] = {}
    for thread_id, user_id, upto_seq in digests:
        try:
            key = (uuid.UUID(thread_id), uuid.UUID(user_id), int(upto_seq))
        except (TypeError, ValueError):
            logger.error("digest with malformed ids %r, %r: dropped", thread_id, user_id)
            continue
        keys.setdefault(key[:2], key)
    return list(keys.values())


def _owed(session: Session, keys: list[DigestKey], abandoned_before: datetime) -> list[Owed]:
    """The digests still owed (not read or mailed meanwhile, no digest to the same person of the same thread in
    flight: neither this one, sent by another run, nor an earlier one, which would mail the same messages), their
    participants locked until the claim commits, in one statement. A participant another run holds is skipped (SKIP
    LOCKED): its digest is left to that run or to a later sweep. SQLite takes no row locks; there a second claim of
    one digest loses on its primary key."""
    pairs = [key[:2] for key in keys]
    in_flight = (
        select(Digest.upto_seq)
        .where(
            Digest.thread_id == Participant.thread_id,
            Digest.user_id == Participant.user_id,
            Digest.sent_at.is_(None),
            Digest.failed_at.is_(None),
            Digest.claimed_at >= abandoned_before,
        )
        .exists()
    )
    rows = session.execute(
        select(
            Participant.thread_id,
            Participant.user_id,
            Participant.read_seq,
            Participant.notified_seq,
            Thread.title,
            User.email,
            User.display_name,
        )
        .join(Thread, Thread.id == Participant.thread_id)
        .join(User, User.id == Participant.user_id)
        .where(tuple_(Participant.thread_id, Participant.user_id).in_(pairs), ~in_flight)
        .with_for_update(of=Participant, skip_locked=True)
    ).all()
    upto = {key[:2]: key[2] for key in keys}
    return [
        Owed((thread_id, user_id, upto[thread_id, user_id]), max(read_seq, notified_seq), title, email, name)
        for thread_id, user_id, read_seq, notified_seq, title, email, name in rows
        if max(read_seq, notified_seq) < upto[thread_id, user_id]
    ]


def _claim(session: Session, owed: list[Owed], now: datetime, abandoned_before: datetime) -> set[DigestKey]:
    """Claim the batch in one statement: a new digest is recorded claimed; one released after an outage or
    abandoned by a run that died is taken over; one sent, failed or being sent by another run is left alone."""
    if not owed:
        return set()
    rows = _insert_digests(session).values(
        [
            {"thread_id": t, "user_id": u, "upto_seq": s, "created_at": now, "claimed_at": now}
            for t, u, s in (item.key for item in owed)
        ]
    )
    claim = rows.on_conflict_do_update(
        index_elements=[Digest.thread_id, Digest.user_id, Digest.upto_seq],
        set_={"claimed_at": rows.excluded.claimed_at},
        where=and_(
            Digest.sent_at.is_(None),
            Digest.failed_at.is_(None),
            or_(Digest.claimed_at.is_(None), Digest.claimed_at < abandoned_before),
        ),
    ).returning(Digest.thread_id, Digest.user_id, Digest.upto_seq)
    return {(t, u, s) for t, u, s in session.execute(claim)}


def _insert_digests(session: Session) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT, in the session's dialect."""
    dialect = session.connection().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Digest)


def _unread(session: Session, owed: list[Owed]) -> dict[DigestKey, list[tuple[str | None, str | None]]]:
    """Each digest's newest unread messages (body, author), oldest first: one statement of one indexed, limited
    read per digest."""
    if not owed:
        return {}
    parts = [
        select(
            literal(index).label("digest"),
            Message.seq,
            Message.body,
            User.display_name,
        )
        .outerjoin(User, User.id == Message.author_id)
        .where(
            Message.thread_id == item.key[0],
            Message.seq > item.since,
            Message.seq <= item.key[2],
            Message.deleted_at.is_(None),
        )
        .order_by(Message.seq.desc())
        .limit(MESSAGES_IN_DIGEST)
        .subquery()
        .select()
        for index, item in enumerate(owed)
    ]
    unread: dict[DigestKey, list[tuple[str | None, str | None]]] = {item.key: [] for item in owed}
    for index, _seq, body, author in sorted(session.execute(union_all(*parts)).all(), key=lambda row: row[:2]):
        unread[owed[index].key].append((body, author))
    return unread


def _compose(item: Owed, unread: list[tuple[str | None, str | None]]) -> Mail:
    """The digest's mail: what the participant has neither read nor been mailed, up to the digest's message."""
    from chorus.adapters.mailer import Mail

    thread_id, _, upto_seq = item.key
    count = upto_seq - item.since
    title, name = one_line(item.title), one_line(item.name)
    lines = [f"{one_line(author or 'Someone')}: {(body or '')[:EXCERPT_CHARS]}" for body, author in unread]
    intro = f"{count} unread message{'s' if count != 1 else ''} in “{title}”:"
    link = f"{get_settings().public_url}/threads/{thread_id}"
    return Mail(
        to=item.email,
        subject=f"{count} unread in {title}",
        text=f"Hello {name},\n\n{intro}\n\n" + "\n".join(lines) + f"\n\nRead them: {link}\n",
        html=f"<p>Hello {escape(name)},</p><p>{escape(intro)}</p><ul>"
        + "".join(f"<li>{escape(line)}</li>" for line in lines)
        + f'</ul><p><a href="{escape(link)}">Read them</a></p>',
    )


def _failure(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:FAILURE_CHARS]


def _claim_batch(keys: list[DigestKey], outcome: Outcome) -> tuple[list[Owed], dict[str, str | None]]:
    """Claim the batch and compose its mails in one short transaction, committed before anything is sent: the
    digests to send, and each mail's Message-ID (None: it left already, in a run that died before recording it).
    A digest over its recipient's mail cap is left unclaimed (a later sweep queues it once the hour allows); one
    that cannot be composed from its data is recorded failed with the batch's outcome."""
    from chorus.adapters.mailer import record_deliveries
    from chorus.adapters.rate_limits import hit_in_transaction, mails_per_hour

    abandoned_before = claims_abandoned_before(outcome.claimed_at)
    with task_session() as session:
        owed = _owed(session, keys, abandoned_before)
        cap = mails_per_hour()
        owed = [item for item in owed if hit_in_transaction(session.connection(), cap, "mail", item.email)]
        claimed = _claim(session, owed, outcome.claimed_at, abandoned_before)
        owed = [item for item in owed if item.key in claimed]
        unread = _unread(session, owed)
        for item in owed:
            try:
                item.mail = _compose(item, unread[item.key])
            except Exception as error:  # about this digest's data: it fails alone
                logger.exception("digest %s failed on its data: recorded, not retried", item.mail_key)
                outcome.failed[item.key] = _failure(error)
        owed = [item for item in owed if item.mail is not None]
        message_ids = record_deliveries(session.connection(), [item.mail_key for item in owed])
        session.commit()
    return owed, message_ids


def _send(owed: list[Owed], message_ids: dict[str, str | None], outcome: Outcome) -> None:
    """Send outside any transaction, on one connection. A mail failing on its data fails alone; a passing outage
    gives its claim back (and, when the connection itself is gone, the claims of the mails not sent yet)."""
    from chorus.adapters import mailer

    with mailer.Transport() as transport:
        for position, item in enumerate(owed):
            message_id = message_ids.get(item.mail_key)
            if message_id is None:
                outcome.sent.append(item)  # it left in an earlier run: only its record is missing
                continue
            try:
                assert item.mail is not None
                transport.send(mailer.compose(item.mail, message_id=message_id), item.mail_key)
            except Exception as error:
                if not is_transient(error):
                    logger.exception("digest %s failed on its data: recorded, not retried", item.mail_key)
                    outcome.failed[item.key] = _failure(error)
                    continue
                outcome.outage = outcome.outage or error
                if isinstance(error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
                    outcome.released.append(item.key)  # the server said "later" to this one; the connection holds
                    continue
                outcome.released += [rest.key for rest in owed[position:]]
                return
            outcome.sent.append(item)


def _record(outcome: Outcome) -> None:
    """Record the batch's outcome in one short transaction: sent and failed digests, their participants notified up
    to them (so no sweep queues them again), the mails delivered, the claims an outage stopped given back (so the
    task's retry claims them again at once)."""
    from chorus.adapters.mailer import record_delivered

    sent = [item.key for item in outcome.sent]
    notified = sent + list(outcome.failed)
    if not notified and not outcome.released:
        return
    now = utcnow()
    with task_session() as session:
        if sent:
            session.execute(
                update(Digest)
                .where(_digest_in(sent), Digest.sent_at.is_(None), Digest.failed_at.is_(None))
                .values(sent_at=now)
                .execution_options(synchronize_session=False)
            )
            record_delivered(session.connection(), [item.mail_key for item in outcome.sent])
        for (thread_id, user_id, upto_seq), reason in outcome.failed.items():  # rare: one statement each
            failed = _insert_digests(session).values(
                thread_id=thread_id, user_id=user_id, upto_seq=upto_seq, created_at=now, failed_at=now, failure=reason
            )
            session.execute(
                failed.on_conflict_do_update(
                    index_elements=[Digest.thread_id, Digest.user_id, Digest.upto_seq],
                    set_={"failed_at": now, "failure": reason},
                    where=and_(Digest.sent_at.is_(None), Digest.failed_at.is_(None)),
                )
            )
        if notified:
            upto = case(
                *((and_(Participant.thread_id == t, Participant.user_id == u), s) for t, u, s in notified),
                else_=Participant.notified_seq,
            )
            session.execute(
                update(Participant)
                .where(
                    or_(
                        *(
                            and_(Participant.thread_id == t, Participant.user_id == u, Participant.notified_seq < s)
                            for t, u, s in notified
                        )
                    )
                )
                .values(notified_seq=upto)
                .execution_options(synchronize_session=False)
            )
        if outcome.released:
            session.execute(
                update(Digest)
                .where(_digest_in(outcome.released), Digest.claimed_at == outcome.claimed_at)
                .values(claimed_at=None)
                .execution_options(synchronize_session=False)
            )
        session.commit()


def _digest_in(keys: list[DigestKey]) -> ColumnElement[bool]:
    return tuple_(Digest.thread_id, Digest.user_id, Digest.upto_seq).in_(keys)


def _mail_batch(keys: list[DigestKey]) -> int:
    """Claim (committed), send outside any transaction, then record the outcome: no row is locked while SMTP talks.
    A passing outage is raised after the outcome is recorded, so the retry sends only what did not leave."""
    outcome = Outcome(claimed_at=utcnow())
    owed, message_ids = _claim_batch(keys, outcome)
    try:
        _send(owed, message_ids, outcome)
    finally:
        try:
            _record(outcome)
        except Exception as error:
            if not is_transient(error):
                raise
            logger.warning("could not record the outcome of %d digest(s); their claims lapse", len(owed))
            if outcome.outage is None:
                raise
    if outcome.outage is not None:
        raise outcome.outage
    return len(outcome.sent)


@app.task(name="message.send_digests")
def send_digests(digests: list[list[Any]]) -> int:
    """Mail a batch of digests ([thread id, recipient id, up to message]); how many were sent now. A passing
    outage retries the batch (what was sent is recorded and not sent again); a digest failing on its data is
    recorded failed alone. A failure of the batch as a whole that is no outage is retried one digest at a time,
    so the digest at fault fails alone and the others go."""
    keys = _keys(digests)
    try:
        return _mail_batch(keys)
    except Exception as error:
        if is_transient(error) or len(keys) == 1:
            raise
        logger.exception("a batch of %d digests failed: trying them one at a time", len(keys))
    return sum(_mail_alone(key) for key in keys)


def _mail_alone(key: DigestKey) -> int:
    try:
        return _mail_batch([key])
    except Exception as error:
        if is_transient(error):
            raise
        logger.exception("digest of thread %s for %s up to %d failed on its data: recorded, not retried", *key)
        _record(Outcome(claimed_at=utcnow(), failed={key: _failure(error)}))
        return 0


@app.task(name="message.send_digest")
def send_digest(thread_id: str, user_id: str, upto_seq: int) -> bool:
    """Mail one digest (tasks queued before digests went in batches); False when it was not owed."""
    keys = _keys([[thread_id, user_id, upto_seq]])
    return bool(keys) and _mail_alone(keys[0]) == 1
