"""A large project in the theatre layout, written to disk for timing ``theatre check`` and ``theatre map``.

``write_project(root)`` writes ``root/pyproject.toml`` and the package ``stagecraft``: the root modules, ``models``
and ``schema``, and ``acts`` acts (``act_00``...), each with ``scenes_per_act`` scene modules (an ``APIRouter``
with ``routes_per_scene`` routes, 1 or 2, that enqueue a task with ``.delay``) aggregated by its ``scenes``
package, a ``tasks`` package declaring two named tasks, and an ``__init__`` that hands out ``router`` lazily
(PEP 562), as chorus's acts do. It checks clean. ``python -m bench.scenarios.theatre_project DIR [ROUTES_PER_SCENE]``
writes one.

One route per scene by default: that is the project the issue measured (``theatre check`` on it took 4.8-5.2 s
here with the dependencies' bytecode not compiled, the issue's 4.4-4.7 s); two routes per scene make FastAPI's
share (building 1,200 routes, twice over through the included routers) half as large again.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE = "stagecraft"


def _act_init(act: str) -> str:
    return f'''"""Act ``{act}``: its router is built on first use, so the worker loads its tasks without FastAPI."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

    router: APIRouter

__all__ = ["router"]


def __getattr__(name: str) -> Any:
    if name == "router":
        value = importlib.import_module(f"{{__name__}}.scenes").router
        globals()["router"] = value  # built once; later lookups never reach __getattr__
        return value
    raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
'''


def _scenes_init(act: str, scenes: list[str]) -> str:
    imports = "\n".join(f"from {PACKAGE}.acts.{act}.scenes import {scene}" for scene in scenes)
    includes = "\n".join(f"router.include_router({scene}.router)" for scene in scenes)
    return f'''"""{act}'s scenes, aggregated into one router (imported by the API only)."""

from fastapi import APIRouter

{imports}

router = APIRouter(prefix="/{act}", tags=["{act}"])
{includes}
'''


def _scene(act: str, scene: str, routes: int) -> str:
    second = f"""

@router.get("/{{item_id}}")
async def read_{scene}(item_id: int) -> dict[str, int]:
    polish.delay(item_id)
    return {{"id": item_id}}
"""
    return f'''"""Scene ``{scene}`` of act ``{act}``."""

from fastapi import APIRouter

from {PACKAGE}.acts.{act}.tasks.work import polish, rehearse

router = APIRouter(prefix="/{scene}")


@router.post("/{{item_id}}", status_code=202)
async def start_{scene}(item_id: int) -> None:
    rehearse.delay(str(item_id))
{second if routes > 1 else ""}'''


def _tasks_init(act: str) -> str:
    return f'''"""{act}'s tasks, registered when the worker imports this package."""

from {PACKAGE}.acts.{act}.tasks import work

__all__ = ["work"]
'''


def _tasks(act: str) -> str:
    return f'''"""{act}'s background work."""

from {PACKAGE}.celery import app


@app.task(name="{act}.rehearse")
def rehearse(line: str) -> str:
    return line


@app.task(name="{act}.polish")
def polish(item_id: int) -> int:
    rehearse.delay(str(item_id))
    return item_id
'''


def _api(acts: list[str]) -> str:
    return f'''"""The API: every act's router."""

from fastapi import FastAPI

from {PACKAGE}.acts import {", ".join(acts)}

app = FastAPI(title="{PACKAGE}")
for act in ({", ".join(acts)},):
    app.include_router(act.router)
'''


def _celery(acts: list[str]) -> str:
    include = "".join(f'        "{PACKAGE}.acts.{act}.tasks",\n' for act in acts)
    return f'''"""The Celery app: it names each act's tasks package and imports no act."""

from celery import Celery

app = Celery(
    "{PACKAGE}",
    broker="memory://",
    include=[
{include}    ],
)
'''


ROOT = {
    "__init__.py": f'"""{PACKAGE}: a large generated project in the theatre layout."""\n',
    "config.py": f'"""Settings."""\n\nTITLE = "{PACKAGE}"\n',
    "db.py": f'"""The database."""\n\nfrom {PACKAGE}.config import TITLE\n\n\ndef url() -> str:\n'
    '    return f"sqlite:///{TITLE}.sqlite3"\n',
    "models/__init__.py": '"""Models."""\n',
    "schema/__init__.py": '"""Payloads."""\n',
    "acts/__init__.py": '"""The acts."""\n',
}


def write_project(root: Path, acts: int = 30, scenes_per_act: int = 20, routes_per_scene: int = 1) -> Path:
    """Write the project into ``root`` (created if need be) and return ``root``."""
    names = [f"act_{number:02d}" for number in range(acts)]
    scenes = [f"scene_{number:02d}" for number in range(scenes_per_act)]
    files = {
        "pyproject.toml": f'[project]\nname = "{PACKAGE}"\nversion = "0"\n\n[tool.theatre]\npackage = "{PACKAGE}"\n',
        **{f"{PACKAGE}/{name}": text for name, text in ROOT.items()},
        f"{PACKAGE}/api.py": _api(names),
        f"{PACKAGE}/celery.py": _celery(names),
    }
    for act in names:
        folder = f"{PACKAGE}/acts/{act}"
        files[f"{folder}/__init__.py"] = _act_init(act)
        files[f"{folder}/scenes/__init__.py"] = _scenes_init(act, scenes)
        files |= {f"{folder}/scenes/{scene}.py": _scene(act, scene, routes_per_scene) for scene in scenes}
        files[f"{folder}/tasks/__init__.py"] = _tasks_init(act)
        files[f"{folder}/tasks/work.py"] = _tasks(act)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


if __name__ == "__main__":
    print(write_project(Path(sys.argv[1]), routes_per_scene=int(sys.argv[2]) if len(sys.argv) > 2 else 1))
