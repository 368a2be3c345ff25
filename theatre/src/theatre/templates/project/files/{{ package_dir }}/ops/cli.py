"""``{{ project }}``: operating the service (``{{ project }} migrate``)."""

from __future__ import annotations

import argparse
from importlib.resources import files

from {{ package }}.config import ConfigurationError, get_settings


def migrate(revision: str = "head") -> None:
    """Bring the configured database to ``revision``: run once per deploy, before the API and the workers."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("{{ package }}") / "migrations"))
    command.upgrade(config, revision)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="{{ project }}", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_parser = commands.add_parser("migrate", help="apply the database migrations")
    migrate_parser.add_argument("revision", nargs="?", default="head", help="where to stop (default: head)")
    arguments = parser.parse_args(argv)
    try:
        get_settings()
    except ConfigurationError as error:
        raise SystemExit(f"{parser.prog}: {error}") from None
    if arguments.command == "migrate":
        migrate(arguments.revision)
        print(f"{parser.prog}: database migrated to {arguments.revision}")
