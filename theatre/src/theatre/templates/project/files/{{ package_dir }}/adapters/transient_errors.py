"""Which failures of a task are passing outages (retried with backoff) and which are not (recorded, not retried).

An outage of the database, the broker, Redis, the network or the disk passes. Anything else is taken to be about the
task's data or code: retrying cannot fix it. A task that talks to another service adds that service's "try later"
errors here.
"""

from __future__ import annotations

from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def is_transient(error: BaseException) -> bool:
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return isinstance(error, PoolTimeout | BrokerError | RedisConnectionError | RedisTimeoutError | OSError)
