"""The ``{{ project }}`` command: operating the service (``migrate``, ``dead-letters``)."""

from __future__ import annotations

import argparse
import uuid
from importlib.resources import files

from {{ package }}.config import ConfigurationError, get_settings


def migrate(revision: str = "head") -> None:
    """Bring the configured database to ``revision``: run once per deploy, before the API and the workers."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("{{ package }}") / "migrations"))
    command.upgrade(config, revision)


def show_dead_letters(*, revive_ids: list[uuid.UUID]) -> None:
    """List the tasks that failed for good (newest first), or queue the given ones again once their cause is fixed."""
    from {{ package }}.adapters.outbox import dead_letters, revive

    for task_id in revive_ids:
        print(f"{task_id}: {'queued again' if revive(task_id) else 'no dead task with this id'}")
    if revive_ids:
        return
    dead = dead_letters()
    for row in dead:
        when = row.finished_at.strftime("%Y-%m-%d %H:%M:%S") if row.finished_at else "?"
        last_line = (row.error or "").strip().splitlines()[-1:] or ["(no error recorded)"]
        print(f"{row.id}  {when}  {row.task}  attempts={row.attempts}  args={row.args} kwargs={row.kwargs}")
        print(f"    {last_line[0]}")
    print(f"{len(dead)} dead task(s)" + (" (the newest 100)" if len(dead) == 100 else ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="{{ project }}", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_parser = commands.add_parser("migrate", help="apply the database migrations")
    migrate_parser.add_argument("revision", nargs="?", default="head", help="where to stop (default: head)")
    dead_parser = commands.add_parser("dead-letters", help="list the tasks that failed for good, or queue them again")
    dead_parser.add_argument("--revive", type=uuid.UUID, nargs="+", default=[], metavar="ID", help="queue these again")
    arguments = parser.parse_args(argv)
    try:
        get_settings()
    except ConfigurationError as error:
        raise SystemExit(f"{parser.prog}: {error}") from None
    if arguments.command == "migrate":
        migrate(arguments.revision)
        print(f"{parser.prog}: database migrated to {arguments.revision}")
    elif arguments.command == "dead-letters":
        show_dead_letters(revive_ids=arguments.revive)
