"""Accounts made through the service's API, as a person's browser would find them: registered, verified by the
mailed link's token, ready to log in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import APIRequestContext

from tests.browser.mail import link_in
from tests.browser.service import ChorusService

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    password: str
    display_name: str


def register(api: APIRequestContext, service: ChorusService, name: str = "Ada Lovelace") -> Account:
    """POST /auth/register, then POST /auth/verify with the token of the /verify link the worker mailed."""
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
    response = api.post("/auth/register", data={"email": email, "password": PASSWORD, "display_name": name})
    assert response.status == 201, response.text()
    [mail] = service.mails_to(email, subject_contains="verify")
    token = parse_qs(urlsplit(link_in(mail, "/verify")).query)["token"][0]
    verified = api.post("/auth/verify", data={"token": token})
    assert verified.status == 204, verified.text()
    return Account(uuid.UUID(response.json()["id"]), email, PASSWORD, name)


def bearer(api: APIRequestContext, account: Account) -> dict[str, str]:
    """The Authorization header of a fresh API login of ``account``, for arranging a scenario outside the page."""
    response = api.post("/auth/token", form={"username": account.email, "password": account.password})
    assert response.status == 200, response.text()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
