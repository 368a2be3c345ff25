"""``chorus``: operating the service (``chorus migrate``)."""

from __future__ import annotations

import argparse
from importlib.resources import files


def migrate(revision: str = "head") -> None:
    """Bring the configured database to ``revision`` (run once per deploy, before the API and workers)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("chorus") / "migrations"))
    command.upgrade(config, revision)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chorus", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_parser = commands.add_parser("migrate", help="apply database migrations")
    migrate_parser.add_argument("revision", nargs="?", default="head")
    arguments = parser.parse_args(argv)
    if arguments.command == "migrate":
        migrate(arguments.revision)
