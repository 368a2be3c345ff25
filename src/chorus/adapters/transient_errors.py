"""Which failures of a task are passing outages (retried with backoff) and which are not (recorded, not retried).

An outage of the database, the broker, Redis, the mail server, the network or the disk passes; a mail server's 4xx is
"try later" and its 5xx "never". Anything else is taken to be about the task's data or code: retrying cannot fix it.
"""

from __future__ import annotations

import smtplib

from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def is_transient(error: BaseException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPException):
        return isinstance(error, smtplib.SMTPServerDisconnected)
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return isinstance(error, PoolTimeout | BrokerError | RedisConnectionError | RedisTimeoutError | OSError)
