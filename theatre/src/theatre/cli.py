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
from theatre.facts.project import UsageError, locate, project_root, resolve_probe_settings
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
      enqueue-helpers  functions that enqueue a task passed to them (default: enqueue)
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


def _made(paths: list[Path], root: Path) -> None:
    for path in paths:
        click.echo(f"  {path.relative_to(root).as_posix()}")


@app.command(short_help="Start a new project in the layout, from theatre's template.")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", "project_name", help="The project's name (default: the folder's name).")
@click.option("--package", help="Its import package (default: the name, as an identifier).")
@click.option("--no-input", is_flag=True, help="Ask nothing: take the defaults for what is not given.")
@click.option("--no-install", is_flag=True, help="Write the files only: no lock file, no virtual environment.")
@click.option(
    "--template",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    hidden=True,
    help="A project template folder (template.toml and files/) instead of theatre's own.",
)
def new(
    path: Path, project_name: str | None, package: str | None, no_input: bool, no_install: bool, template: Path | None
) -> None:
    """Write a new project into PATH (a new or empty folder), then lock and install it with `make install`.

    It holds the layout's root modules, one example act (a scene that queues a task once its transaction
    commits), tests on a real database and a real worker, `make run` and `make test`, a Dockerfile and a compose
    file. Its files are its own: nothing at run time imports theatre, and `theatre update` brings later template
    changes in.

    Exit status: 0 made, 1 written but `make install` failed, 2 refused (nothing written).
    """
    import subprocess

    from theatre.commands.new import answers_for, create, refuse_destination
    from theatre.generation.names import NameRefused, default_package
    from theatre.generation.render import Template, TemplateError, builtin

    try:
        refuse_destination(path)
        name = project_name or path.resolve().name
        if not no_input:
            name = click.prompt("Project name", default=name)
            package = click.prompt("Package", default=package or default_package(name))
        written = create(path, answers_for(name, package), Template(template) if template else builtin("project"))
    except (NameRefused, TemplateError) as error:
        _fail(error)
    click.echo(f"theatre: wrote {len(written)} files to {path}")
    if no_install:
        click.echo(f"theatre: next, cd {path} && make test")
        return
    if subprocess.run(["make", "install"], cwd=path, check=False).returncode != 0:  # noqa: S607
        click.echo(f"theatre: the files are written, but `make install` failed in {path}", err=True)
        sys.exit(EXIT_FINDINGS)
    click.echo(f"theatre: ready. cd {path} && make test (or make run)")


@app.group()
def act() -> None:
    """Acts: add one."""


@app.group()
def scene() -> None:
    """Scenes: add one to an act."""


@app.group()
def task() -> None:
    """Tasks: add one to an act."""


def _grow(project: Path | None, action: Callable[[Any], list[Path]]) -> None:
    from theatre.generation.names import NameRefused

    try:
        located = locate(None, project)
        made = action(located)
    except (UsageError, NameRefused) as error:
        _fail(error)
    click.echo(f"theatre: wrote {len(made)} files")
    _made(made, located.root)


@act.command(name="add")
@click.argument("name")
@click.option("--about", help="What the act provides, in one sentence (its docstring).")
@click.option("--scene", "scene_name", default="overview", show_default=True, help="Its first scene.")
@click.option("--task", "task_name", default="tidy", show_default=True, help="Its first task.")
@PROJECT
def add_act(name: str, about: str | None, scene_name: str, task_name: str, project: Path | None) -> None:
    """Add act NAME: its package, a scene with one route, a task, their tests; the API mounts it.

    Exit status: 0 added, 2 refused (nothing written).
    """
    from theatre.commands.grow import add_act as grow

    what = about or f"the {name.replace('_', ' ')} part of the service."
    _grow(project, lambda located: grow(located, name, about=what, scene=scene_name, task=task_name))


@scene.command(name="add")
@click.argument("act_name", metavar="ACT")
@click.argument("name")
@PROJECT
def add_scene(act_name: str, name: str, project: Path | None) -> None:
    """Add scene NAME to ACT: a module with one route and its test; the act's router aggregates it."""
    from theatre.commands.grow import add_scene as grow

    _grow(project, lambda located: grow(located, act_name, name))


@task.command(name="add")
@click.argument("act_name", metavar="ACT")
@click.argument("name")
@PROJECT
def add_task(act_name: str, name: str, project: Path | None) -> None:
    """Add task NAME to ACT: a module with one Celery task and its test; the worker registers it."""
    from theatre.commands.grow import add_task as grow

    _grow(project, lambda located: grow(located, act_name, name))


@app.command(short_help="Bring the template's later changes into a project theatre new made.")
@click.option(
    "--template",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    hidden=True,
    help="A project template folder (template.toml and files/) instead of theatre's own.",
)
@PROJECT
def update(template: Path | None, project: Path | None) -> None:
    """Merge the template's changes since this project was made (or last updated), keeping local edits.

    Lines both the project and the template changed are left between conflict markers, and listed.

    Exit status: 0 merged cleanly, 1 conflicts to resolve, 2 not a generated project or usage error.
    """
    from theatre.commands.update import update as bring
    from theatre.generation.merge import MergeUnavailable
    from theatre.generation.record import RecordError
    from theatre.generation.render import Template, TemplateError, builtin

    try:
        done = bring(project_root(project), Template(template) if template else builtin("project"))
    except (UsageError, RecordError, TemplateError, MergeUnavailable) as error:
        _fail(error)
    click.echo(f"theatre: template {done.old_version} -> {done.new_version}")
    for label, paths in (
        ("updated", done.updated),
        ("added", done.added),
        ("removed", done.removed),
        ("merged with your edits", done.merged),
        ("kept as you have it", done.kept),
        ("CONFLICT", done.conflicts),
    ):
        for relative in paths:
            click.echo(f"  {label}: {relative}")
    if done.changed_nothing:
        click.echo("theatre: nothing to bring in")
    if done.conflicts:
        files = "1 file" if len(done.conflicts) == 1 else f"{len(done.conflicts)} files"
        click.echo(f"theatre: conflicts in {files}: resolve the marked lines", err=True)
        sys.exit(EXIT_FINDINGS)
