"""The ``theatre`` command: ``check`` enforces the layout's rules, ``map`` draws the acts, ``rules`` lists codes.

Plain Click, and Rich imported only to print: ``check`` starts its probes a fifth of a second after launch, which
is most of what keeps it under two seconds.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from theatre import __version__
from theatre.commands.check import Options, record_baseline, run_check
from theatre.facts.graph import GraphError
from theatre.facts.project import UsageError, locate, resolve_probe_settings
from theatre.probes.launcher import ProbeError
from theatre.rules.catalogue import RULES

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
MAP_WIDTH_PIPED = 1000  # a tree written to a file or pipe is not cut at 80 columns

PACKAGE = click.argument("package", required=False)
PROJECT = click.option(
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The project directory (where its pyproject.toml is and its processes start); "
    "defaults to the nearest one above the working directory.",
)

Command = TypeVar("Command", bound=Callable[..., Any])


def probe_options(command: Command) -> Command:
    """--python, --env-file and --timeout: how the probes run, over [tool.theatre] python, env-file, probe-timeout."""
    for option in reversed(
        (
            click.option(
                "--python",
                type=click.Path(path_type=Path),
                metavar="PATH",
                help="The interpreter the probes run in; defaults to [tool.theatre] python, else the project's "
                ".venv/bin/python, else theatre's own.",
            ),
            click.option(
                "--env-file",
                type=click.Path(path_type=Path),
                metavar="PATH",
                help="KEY=VALUE lines added to the probes' environment; defaults to [tool.theatre] env-file "
                "(no .env is read unless named).",
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(min=0, min_open=True),
                metavar="SECONDS",
                help="How long each probe may take; defaults to [tool.theatre] probe-timeout, else 120.",
            ),
        )
    ):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="theatre")
def app() -> None:
    """Keep a project in the theatre layout honest: check its rules, draw its acts.

    A project in the layout is one package holding the modules __init__, db, config, api and celery, the packages
    models, schema and acts, and in each act a scenes package (the API's routes) and a tasks package (the worker's
    jobs).

    \b
    Settings, from [tool.theatre] in the nearest pyproject.toml:
      package          the package to look at
      ignore           rule codes to skip
      worker-only      modules importing the API must not load
      web-framework    modules the worker must not load (default: fastapi, starlette)
      enqueue-helpers  functions that enqueue the task passed first (default: enqueue)
      python           the probes' interpreter (default: .venv/bin/python, else theatre's)
      env-file         KEY=VALUE lines added to the probes' environment
      probe-timeout    seconds each probe may take (default: 120)
    """


def _fail(error: Exception) -> NoReturn:
    click.echo(f"theatre: {error}", err=True)
    sys.exit(EXIT_USAGE)


def _print_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


@app.command(short_help="Check the project against the layout's rules.")
@PACKAGE
@click.option(
    "--format",
    "-f",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)
@PROJECT
@click.option(
    "--ignore", multiple=True, metavar="CODE", help="A rule to skip (repeatable); adds to [tool.theatre] ignore."
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also report import cycles closed by imports inside functions (I201), which never run on import.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A baseline file whose findings stay silent (default: [tool.theatre] baseline).",
)
@click.option(
    "--write-baseline",
    is_flag=True,
    help="Write today's findings to the baseline (--baseline, [tool.theatre] baseline, or theatre-baseline.json "
    "in the project root) instead of reporting them.",
)
@probe_options
def check(
    package: str | None,
    output: str,
    project: Path | None,
    ignore: tuple[str, ...],
    strict: bool,
    baseline: Path | None,
    write_baseline: bool,
    python: Path | None,
    env_file: Path | None,
    timeout: float | None,
) -> None:
    """Check the project against the layout's rules.

    Like Django's system checks, each finding has a stable code, a message, the file and line, and a hint. The
    rules cover the layout on disk (L1xx); which way imports flow, read from the import graph, with the chain of
    imports that breaks the rule (I2xx); and what the API and the worker really load, each started in a fresh
    process of the project's interpreter (R3xx). `theatre rules` lists every code. A rule that could not run (the
    API does not import, a probe timed out) is reported as not run, with why: the check is then not clean.

    A finding is silenced by `# theatre: ignore[CODE]` on its line, or by the baseline.

    PACKAGE defaults to [tool.theatre] package.

    Exit status: 0 clean (every rule ran, nothing found), 1 findings or rules not run, 2 usage or import error.
    """
    try:
        located = locate(package, project)
        probes = resolve_probe_settings(located, python, env_file, timeout)
        options = Options(frozenset(code.upper() for code in ignore), strict, baseline, probes)
        report = record_baseline(located, options) if write_baseline else run_check(located, options)
    except (UsageError, GraphError, ProbeError) as error:
        _fail(error)
    if output == "json":
        _print_json(report.as_json())
    else:
        from rich.console import Console

        from theatre.views.report import print_report

        if report.baseline_written:
            click.echo(f"theatre: wrote {len(report.baselined)} findings to {report.baseline_written}")
            if not baseline and not located.settings.baseline:
                click.echo(f'theatre: to use it, add to [tool.theatre]: baseline = "{report.baseline_written.name}"')
        print_report(report, Console(soft_wrap=True, highlight=False))
    sys.exit(EXIT_CLEAN if report.clean else EXIT_FINDINGS)


@app.command(name="map", short_help="Draw the acts: routes, tasks, and who enqueues what.")
@PACKAGE
@click.option(
    "--format",
    "-f",
    "output",
    type=click.Choice(["tree", "mermaid", "json"]),
    default="tree",
    show_default=True,
    help="tree for the terminal, mermaid for documents, json for machines.",
)
@PROJECT
@probe_options
def draw_map(
    package: str | None,
    output: str,
    project: Path | None,
    python: Path | None,
    env_file: Path | None,
    timeout: float | None,
) -> None:
    """Draw every act with its scenes and tasks, and which of them enqueues which task.

    Scenes are shown with the HTTP method and path the API serves them at (read from a fresh API process); tasks
    with the name Celery registers. Enqueues are found in the source: .delay, .apply_async, .s, .si, send_task,
    and a task passed to one of the enqueue-helpers (default enqueue).

    PACKAGE defaults to [tool.theatre] package.

    Exit status: 0 drawn, 2 usage or import error (what could be drawn is still printed).
    """
    from rich.console import Console

    from theatre.commands.map import build_map
    from theatre.views.drawing import mermaid, print_tree

    try:
        found = locate(package, project)
        stage = build_map(found, resolve_probe_settings(found, python, env_file, timeout))
    except (UsageError, GraphError, ProbeError) as error:
        _fail(error)
    if output == "json":
        _print_json(stage.as_json())
    elif output == "mermaid":
        sys.stdout.write(mermaid(stage))
    else:
        console = Console(highlight=False)
        print_tree(stage, console if console.is_terminal else Console(highlight=False, width=MAP_WIDTH_PIPED))
    for failure in stage.failures:
        click.echo(f"theatre: {failure} (the map misses what it hides; theatre check says more)", err=True)
    sys.exit(EXIT_USAGE if stage.failures else EXIT_CLEAN)


@app.command(short_help="List every rule's code, what it forbids, and its hint.")
def rules() -> None:
    """List every rule: its code, what it forbids, and the hint a finding carries."""
    from rich.console import Console
    from rich.text import Text

    console = Console(soft_wrap=True, highlight=False)
    for rule in RULES.values():
        console.print(Text.assemble((rule.code, "bold"), f"  {rule.title}"))
        console.print(Text(f"      {rule.hint}", style="dim"))
