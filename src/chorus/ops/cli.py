"""``chorus``: operating the service (``chorus migrate``, ``chorus seed``, ``chorus dead-letters``)."""

from __future__ import annotations

import argparse
import uuid
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chorus.ops.seed import Parameters


def migrate(revision: str = "head") -> None:
    """Bring the configured database to ``revision`` (run once per deploy, before the API and workers)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("chorus") / "migrations"))
    command.upgrade(config, revision)


def seed_database(parameters: Parameters, *, reset: bool, output: Path) -> None:
    """Fill the configured database with the synthetic data set; print and save where benchmarks find their way in."""
    from chorus.db import sync_engine
    from chorus.ops.seed import SeedRefused, seed

    try:
        seeded = seed(sync_engine(), parameters, reset=reset)
    except SeedRefused as refusal:
        raise SystemExit(f"chorus seed: {refusal}") from None
    seeded.save(output)
    counts = ", ".join(f"{count:,} {what}" for what, count in seeded.counts.items())
    print(f"seeded in {seeded.seconds['total']:.1f} s: {counts}")
    print(f"busy user: {seeded.busy_user_email}  password: {seeded.password}  ({seeded.busy_user_threads:,} threads)")
    if seeded.big_thread_id:
        print(f"big thread: {seeded.big_thread_id} ({seeded.big_thread_messages:,} messages)")
    print(f"every seeded user has the same password; written to {output}")


def show_dead_letters(*, revive_ids: list[uuid.UUID]) -> None:
    """List the tasks that failed for good (newest first), or queue the given ones again once their cause is fixed."""
    from chorus.adapters.outbox import dead_letters, revive

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


def _seed_arguments(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from chorus.ops.seed import Parameters  # the seed's defaults; `chorus migrate` need not load what seeding needs

    defaults = Parameters()
    parser = commands.add_parser("seed", help="fill the database with a large synthetic data set (benchmarks)")
    sizes = {
        "users": "users, all verified, all with the same password",
        "threads": "ordinary threads",
        "messages": "messages spread over the ordinary threads",
        "big_thread_messages": "messages of the one big thread (0: no big thread)",
        "busy_user_threads": "threads the busy user is in (the big one included)",
        "participants_per_thread": "participants of each thread",
        "seed": "random seed (the same seed gives the same data, ids aside)",
    }
    for name, help_text in sizes.items():
        default = getattr(defaults, name)
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default, help=f"{help_text} ({default})")
    parser.add_argument("--reset", action="store_true", help="empty every table first (else refuse a non-empty one)")
    parser.add_argument("--output", type=Path, default=Path("var/seed.json"), help="where to write the credentials")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chorus", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_parser = commands.add_parser("migrate", help="apply database migrations")
    migrate_parser.add_argument("revision", nargs="?", default="head")
    _seed_arguments(commands)
    dead_parser = commands.add_parser("dead-letters", help="list the tasks that failed for good, or queue them again")
    dead_parser.add_argument("--revive", type=uuid.UUID, nargs="+", default=[], metavar="ID", help="queue these again")
    arguments = parser.parse_args(argv)
    if arguments.command == "migrate":
        migrate(arguments.revision)
    elif arguments.command == "dead-letters":
        show_dead_letters(revive_ids=arguments.revive)
    elif arguments.command == "seed":
        from chorus.ops.seed import Parameters

        parameters = Parameters(
            users=arguments.users,
            threads=arguments.threads,
            messages=arguments.messages,
            big_thread_messages=arguments.big_thread_messages,
            busy_user_threads=arguments.busy_user_threads,
            participants_per_thread=arguments.participants_per_thread,
            seed=arguments.seed,
        )
        seed_database(parameters, reset=arguments.reset, output=arguments.output)
