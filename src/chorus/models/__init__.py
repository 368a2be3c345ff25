"""SQLAlchemy models, one module per aggregate; importing this package registers them all on ``Base``."""

from chorus.models.base import Base, utcnow, uuid7
from chorus.models.token import EmailToken, EmailTokenPurpose, LoginFailure, RefreshToken
from chorus.models.user import User

__all__ = [
    "Base",
    "EmailToken",
    "EmailTokenPurpose",
    "LoginFailure",
    "RefreshToken",
    "User",
    "utcnow",
    "uuid7",
]
