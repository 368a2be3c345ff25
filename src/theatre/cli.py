"""The ``theatre`` command: ``check`` enforces the layout's rules, ``map`` draws the acts, ``rules`` lists codes.

Rich is imported only to print, so ``check`` starts its probes as early as it can.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from theatre.check import run_check
from theatre.config import UsageError, locate
from theatre.findings import RULES
from theatre.graph import GraphError
from theatre.runtime import ProbeError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
MAP_WIDTH_PIPED = 1000  # a tree written to a file or pipe is not cut at 80 columns

app = typer.Typer(
    name="theatre",
    help="Keep a project in the theatre layout honest: check its rules, draw its acts.\n\n"
    "A project in the layout is one package holding the modules `__init__`, `db`, `config`, `api` and `celery`, "
    "the packages `models`, `schema` and `acts`, and in each act a `scenes` package (the API's routes) and a "
    "`tasks` package (the worker's jobs).\n\n"
    "Settings come from `[tool.theatre]` in the nearest pyproject.toml: `package`, `ignore` (rule codes), "
    "`worker-only` (modules the API must not load), `web-framework` (modules the worker must not load; default "
    "fastapi and starlette) and `enqueue-helpers` (functions that enqueue the task given first; default enqueue).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


class MapFormat(StrEnum):
    tree = "tree"
    mermaid = "mermaid"
    json = "json"


PackageArgument = Annotated[
    str | None, typer.Argument(help="The package to look at; defaults to [tool.theatre] package.", show_default=False)
]
ProjectOption = Annotated[
    Path | None,
    typer.Option(
        "--project",
        help="The project directory (where its pyproject.toml is and its processes start); "
        "defaults to the nearest one above the working directory.",
        show_default=False,
    ),
]


def _fail(error: Exception) -> NoReturn:
    typer.echo(f"theatre: {error}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _print_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


@app.command()
def check(
    package: PackageArgument = None,
    output: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="text for people, json for machines.")
    ] = CheckFormat.text,
    project: ProjectOption = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="A rule code to skip (repeatable); adds to [tool.theatre] ignore."),
    ] = None,
) -> None:
    """Check the project against the layout's rules.

    Like Django's system checks, each finding has a stable code, a message, the file and line, and a hint.
    The rules cover the layout on disk (L1xx); which way imports flow, read from the import graph, with the chain
    that breaks the rule (I2xx); and what the API and the worker really load, each started in a fresh process of
    the project's interpreter (R3xx). `theatre rules` lists every code.

    Exit status: 0 clean, 1 findings, 2 usage or import error.
    """
    try:
        report = run_check(locate(package, project), frozenset(ignore or ()))
    except (UsageError, GraphError, ProbeError) as error:
        _fail(error)
    if output is CheckFormat.json:
        _print_json(report.as_json())
    else:
        from rich.console import Console

        from theatre.reportview import print_report

        print_report(report, Console(soft_wrap=True, highlight=False))
    raise typer.Exit(EXIT_FINDINGS if report.findings else EXIT_CLEAN)


@app.command(name="map")
def draw_map(
    package: PackageArgument = None,
    output: Annotated[
        MapFormat,
        typer.Option("--format", "-f", help="tree for the terminal, mermaid for documents, json for machines."),
    ] = MapFormat.tree,
    project: ProjectOption = None,
) -> None:
    """Draw every act with its scenes and tasks, and which of them enqueues which task.

    Scenes are shown with the HTTP method and path the API serves them at (read from a fresh API process); tasks
    with the name Celery registers. Enqueues are found in the source: `.delay`, `.apply_async`, `.s`, `.si`,
    `send_task`, and a task passed to one of the `enqueue-helpers` (default `enqueue`).

    Exit status: 0 drawn, 2 usage or import error (what could be drawn is still printed).
    """
    from rich.console import Console

    from theatre.mapview import mermaid, print_tree
    from theatre.stagemap import build_map

    try:
        stage = build_map(locate(package, project))
    except (UsageError, GraphError, ProbeError) as error:
        _fail(error)
    if output is MapFormat.json:
        _print_json(stage.as_json())
    elif output is MapFormat.mermaid:
        sys.stdout.write(mermaid(stage))
    else:
        console = Console(highlight=False)
        print_tree(stage, console if console.is_terminal else Console(highlight=False, width=MAP_WIDTH_PIPED))
    for failure in stage.failures:
        typer.echo(f"theatre: {failure} (the map misses what it hides; theatre check says more)", err=True)
    raise typer.Exit(EXIT_USAGE if stage.failures else EXIT_CLEAN)


@app.command()
def rules() -> None:
    """List every rule: its code, what it forbids, and the hint a finding carries."""
    from rich.console import Console
    from rich.text import Text

    console = Console(soft_wrap=True, highlight=False)
    for rule in RULES.values():
        console.print(Text.assemble((rule.code, "bold"), f"  {rule.title}"))
        console.print(Text(f"      {rule.hint}", style="dim"))
