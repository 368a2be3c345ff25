"""SQLAlchemy models, one module per aggregate; importing this package registers them all on ``Base``."""

from chorus.models.base import Base, utcnow, uuid7
from chorus.models.digest import Digest
from chorus.models.event import ThreadEvent
from chorus.models.idempotency import IdempotencyKey
from chorus.models.mail import MailDelivery
from chorus.models.message import Message
from chorus.models.outbox import OutboxTask
from chorus.models.rate_limit import RateLimitCounter
from chorus.models.thread import Participant, Thread
from chorus.models.token import EmailToken, EmailTokenPurpose, LoginSession, RefreshToken
from chorus.models.user import User

__all__ = [
    "Base",
    "Digest",
    "EmailToken",
    "EmailTokenPurpose",
    "IdempotencyKey",
    "LoginSession",
    "MailDelivery",
    "Message",
    "OutboxTask",
    "Participant",
    "RateLimitCounter",
    "RefreshToken",
    "Thread",
    "ThreadEvent",
    "User",
    "utcnow",
    "uuid7",
]
