"""What a check reports: a finding per broken rule, with a stable code, a place and a hint; and the rules that
could not run, with why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One rule of the layout; its code never changes meaning, so it can be ignored or grepped for."""

    code: str
    title: str
    hint: str


@dataclass(frozen=True)
class Finding:
    """A broken rule at a place: ``file`` is relative to the project root; ``line`` is None for a whole file."""

    code: str
    message: str
    file: str
    line: int | None
    hint: str
    chain: tuple[str, ...] = ()

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "hint": self.hint,
            "chain": list(self.chain),
        }


@dataclass(frozen=True)
class NotRun:
    """Rules that could not be checked, and why: never silent, never suppressible, and the check is not clean."""

    codes: tuple[str, ...]
    reason: str
    file: str
    line: int | None = None

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_json(self) -> dict[str, object]:
        return {"codes": list(self.codes), "reason": self.reason, "file": self.file, "line": self.line}


_RULES = (
    Rule("L101", "a root module is missing", "The package root holds __init__, db, config, api and celery."),
    Rule("L102", "a root folder is missing", "The package root holds the packages models, schema and acts."),
    Rule("L103", "an act has no scenes package", "Every act has a scenes package: its API routes live there."),
    Rule("L104", "an act has no tasks package", "Every act has a tasks package: its worker jobs live there."),
    Rule(
        "L105",
        "an act does not expose router",
        "The act's __init__ hands out `router`, its scenes aggregated: build it in a function and return it from "
        "a module-level __getattr__, so the worker importing the act's tasks never loads the web framework.",
    ),
    Rule(
        "L106",
        "a scene's route is not reachable from its act's router",
        "Include this scene module's router in the router the act's __init__ builds.",
    ),
    Rule(
        "L107",
        "api does not mount an act's router",
        "api.py includes every act's router: app.include_router(act.router).",
    ),
    Rule(
        "L108",
        "a folder under acts is not a package",
        "Add an __init__.py: without it nothing in the folder is imported by its act, so its scenes are never "
        "served and its tasks never registered.",
    ),
    Rule(
        "I201",
        "import cycle",
        "Break the cycle: move what both sides need into a module that neither imports, or import the defining "
        "module rather than a package that aggregates it.",
    ),
    Rule(
        "I202",
        "a foundation module depends on acts or api",
        "models, schema, db, config and celery sit below the acts: they never import an act or api. Celery finds "
        "task modules by name (include=[...]) instead of importing them.",
    ),
    Rule(
        "I203",
        "an act reaches into another act",
        "Use what the other act's __init__ exposes (its public face), never its scenes, tasks or other modules.",
    ),
    Rule(
        "I204",
        "acts depend on each other in a cycle",
        "Acts form a one-way graph: move what both need below them (models, schema) or into one act's public face.",
    ),
    Rule(
        "I205",
        "tasks load scenes or the web framework",
        "Tasks run in the worker, which must not load the API's half: import what the task needs from the module "
        "that defines it, and keep web-only imports out of anything a task imports at module level.",
    ),
    Rule(
        "I206",
        "a module imports a name from an __init__ that contains it",
        "This __init__ imports modules of its own package, so while it runs this module can see it half-initialised "
        "(and reordering its lines breaks the import). Import the name from the module that defines it.",
    ),
    Rule(
        "R301",
        "a task is not registered on the worker's Celery app",
        "The worker imports each act's tasks package by name: that package's __init__ must import every module "
        "that declares tasks, and the Celery app's include must list the package.",
    ),
    Rule(
        "R302",
        "the worker loads the API's half",
        "The worker loads tasks only: keep the web framework and scenes out of what tasks import at module level "
        "(an act's __init__ hands out its router lazily).",
    ),
    Rule(
        "R303",
        "importing the API loads a worker-only module",
        "Import worker-only dependencies inside the task body that needs them, not at module level.",
    ),
    Rule(
        "R304",
        "a process fails to import",
        "Fix the import error; the runtime rules cannot be checked until both processes start.",
    ),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def finding(
    code: str, message: str, file: str, line: int | None, chain: tuple[str, ...] = (), hint: str = ""
) -> Finding:
    """A finding of a catalogued rule, with the rule's hint unless a more specific one is given."""
    return Finding(code, message, file, line, hint or RULES[code].hint, chain)
