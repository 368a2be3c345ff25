"""Which names a new project, act, scene or task may take: refused with one line before anything is written."""

from __future__ import annotations

import keyword
import re
import sys

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
PROJECT_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
# What a generated project imports (with what those import): a package of the same name would hide it.
TEMPLATE_IMPORTS = frozenset(
    {
        "aiosqlite", "alembic", "amqp", "annotated_types", "anyio", "billiard", "celery", "click", "fastapi",
        "greenlet", "grimp", "h11", "honcho", "httpcore", "httpx", "idna", "kombu", "mako", "markupsafe", "mypy",
        "psycopg", "psycopg_binary", "pydantic", "pydantic_core", "pydantic_settings", "pytest", "redis", "rich",
        "ruff", "sniffio", "sqlalchemy", "starlette", "theatre", "typing_extensions", "uvicorn", "vine",
    }
)  # fmt: skip
TEST_FOLDERS = frozenset({"test", "tests"})


class NameRefused(Exception):
    """A name theatre will not generate: the message says why, in one line."""


def package_name(name: str) -> str:
    """A new project's import package: a lowercase identifier that hides nothing it will import."""
    part_name("a package", name)
    if name in sys.stdlib_module_names:
        raise NameRefused(f"{name!r} would shadow the standard library's module: choose another package name")
    if name in TEMPLATE_IMPORTS:
        raise NameRefused(f"{name!r} would shadow a library the project imports: choose another package name")
    if name in TEST_FOLDERS:
        raise NameRefused(f"{name!r} names test code (Python's own test package, the project's tests): choose another")
    return name


def project_name(name: str) -> str:
    if not PROJECT_NAME.fullmatch(name):
        raise NameRefused(f"{name!r} is not a project name: use letters, digits, '.', '_' and '-'")
    return name


def default_package(project: str) -> str:
    """``My-Shop.api`` becomes ``my_shop_api``: the import name a project called that would have."""
    return re.sub(r"[-.]+", "_", project).lower()


def part_name(kind: str, name: str) -> str:
    """An act, scene or task name: it becomes a module, so a lowercase identifier that is no keyword."""
    if not IDENTIFIER.fullmatch(name) or keyword.iskeyword(name):
        raise NameRefused(f"{name!r} cannot name {kind}: use lowercase letters, digits and _, starting with a letter")
    return name
