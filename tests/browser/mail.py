"""The mail the service's worker writes (one .eml file per mail, chorus.adapters.mailer), read as a person would: a
message to an address, and the link in it to open."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

URL = re.compile(r"https?://[^\s<>\"']+")


def read_mails(folder: Path) -> list[EmailMessage]:
    """Every mail in ``folder``, oldest first (the mailer renames each into place whole: none is half written)."""
    paths = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns) if folder.exists() else []
    messages = []
    for path in paths:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def mails_to(
    folder: Path, address: str, *, subject_contains: str = "", count: int = 1, timeout: float = 20.0
) -> list[EmailMessage]:
    """The mails to ``address`` whose subject contains ``subject_contains``, once there are at least ``count``."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            mail
            for mail in read_mails(folder)
            if mail["To"] == address and subject_contains.lower() in str(mail["Subject"]).lower()
        ]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            subjects = [f"{mail['To']}: {mail['Subject']}" for mail in read_mails(folder)]
            raise AssertionError(
                f"{len(found)} of {count} mail(s) to {address} with {subject_contains!r} in the subject within "
                f"{timeout:g} s; the mail folder holds {subjects or 'nothing'}"
            )
        time.sleep(0.05)


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None, f"{mail['Subject']!r} has no plain-text part"
    return str(body.get_content())


def link_in(mail: EmailMessage, path: str) -> str:
    """The link in ``mail``'s text whose path is ``path`` (e.g. ``/verify``), whole: ``http://…/verify?token=…``."""
    links = URL.findall(text_of(mail))
    for link in links:
        if urlsplit(link).path == path:
            return str(link)
    raise AssertionError(f"no {path} link in {mail['Subject']!r}; its links: {links or 'none'}")
