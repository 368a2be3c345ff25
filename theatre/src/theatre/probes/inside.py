"""Runs in a fresh process of the project's own interpreter: starts one side (API or worker) and reports what it
loaded and from which line, which tasks it registered, and which routes it serves.

Standard library only until the side is loaded, so nothing of the probe's own can mask what the project loads.
Usage: ``python path/to/inside.py REQUEST_JSON RESULT_PATH``, from the project's root directory.

A probe that cannot answer still says where it was: faulthandler writes the stack to the request's ``trace`` file
when the process crashes, overruns the request's ``timeout``, or the project calls ``os._exit``. Failures are
caught as BaseException, so a ``sys.exit()`` at import is reported, with its frames, like any import error.
"""

from __future__ import annotations

import faulthandler
import gc
import importlib
import inspect
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from types import FrameType, ModuleType, TracebackType
from typing import IO, Any, NoReturn

Place = dict[str, Any]


class Project:
    """Tells the project's own files from everything else."""

    def __init__(self, package_dir: str) -> None:
        self.package_dir = os.path.realpath(package_dir) + os.sep
        self._known: dict[str, bool] = {}

    def owns(self, filename: str) -> bool:
        if filename not in self._known:
            self._known[filename] = os.path.realpath(filename).startswith(self.package_dir)
        return self._known[filename]


class ImportWatch:
    """A meta-path finder that finds nothing: it notes who first imports a watched module, then steps aside."""

    def __init__(self, project: Project, wanted: Callable[[str], bool]) -> None:
        self.project = project
        self.wanted = wanted
        self.origins: dict[str, dict[str, Any]] = {}

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname not in self.origins and self.wanted(fullname):
            self.origins[fullname] = self._origin(sys._getframe(1))

    def _origin(self, frame: FrameType | None) -> dict[str, Any]:
        frames: list[FrameType] = []
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
        ours = [i for i, f in enumerate(frames) if self.project.owns(f.f_code.co_filename)]
        inner = frames[: ours[0]] if ours else frames
        libraries = [f for f in inner if not f.f_code.co_filename.startswith("<") and f.f_code.co_filename != __file__]
        via = libraries[-1].f_globals.get("__name__") if libraries else None
        chain = [
            _place(f.f_globals.get("__name__"), f.f_code.co_filename, f.f_lineno) for f in (frames[i] for i in ours)
        ]
        return {"chain": chain[::-1], "via": via}

    def loaded(self) -> list[dict[str, Any]]:
        return [{"module": name, **origin} for name, origin in self.origins.items() if name in sys.modules]


def _place(module: object, filename: str, line: int | None) -> Place:
    return {"module": module, "file": filename, "line": line}


def _failure(project: Project, stage: str, error: BaseException) -> dict[str, Any]:
    tb: TracebackType | None = error.__traceback__
    frames = [f for f in traceback.extract_tb(tb) if project.owns(f.filename)]
    return {
        "stage": stage,
        "error": "".join(traceback.format_exception_only(type(error), error)).strip(),
        "frames": [_place(None, f.filename, f.lineno) for f in frames],
    }


class _Served:
    """A FastAPI route as an including router serves it: the prefixes of the routers above it, its own methods."""

    __slots__ = ("endpoint", "methods", "path")

    def __init__(self, endpoint: Any, methods: set[str], path: str) -> None:
        self.endpoint, self.methods, self.path = endpoint, methods, path


def _included(routing: Any, routes: Iterable[Any], context: Any) -> Iterator[Any]:
    """The routes ``iter_route_contexts`` yields, in its order, with the path, endpoint and methods it gives each.

    FastAPI's own walk builds each included route's handler again (dependencies, response models, validators),
    which for a large API costs a third as much as importing it; a route's path under its routers is only their
    prefixes in front of its own (``_RouterIncludeContext.path_for``). Routes other than FastAPI's are still
    built by FastAPI, as cheaply as it builds them.
    """
    for route in routes:
        if isinstance(route, routing._IncludedRouter):
            inner = route.include_context if context is None else context.combine(route.include_context)
            yield from _included(routing, route.original_router.routes, inner)
        elif context is None:
            yield route
        elif isinstance(route, routing.APIRoute):
            methods = ["GET"] if route.methods is None else route.methods
            yield _Served(route.endpoint, {method.upper() for method in methods}, context.path_for(route))
        else:
            branch = routing._IncludedRouter(original_router=context.included_router, include_context=context)
            effective = branch._build_effective_context(route)
            if effective is not None:
                yield routing.RouteContext(route, effective)


def _flattened(routes: Iterable[Any]) -> Iterable[Any]:
    from fastapi import routing

    included = getattr(routing, "_IncludedRouter", None)
    context = getattr(routing, "_RouterIncludeContext", None)
    if (
        included is not None
        and context is not None
        and hasattr(routing, "RouteContext")
        and hasattr(included, "_build_effective_context")
        and all(hasattr(context, name) for name in ("combine", "path_for"))
        and "included_router" in getattr(context, "__dataclass_fields__", {})
    ):
        return _included(routing, routes, None)
    flatten = getattr(routing, "iter_route_contexts", None)  # other FastAPI versions: theirs, or none to follow
    return flatten(list(routes)) if flatten else routes


def _routes(routes: Iterable[Any]) -> list[dict[str, Any]]:
    """Every route reachable from a router, however deeply included (FastAPI nests included routers)."""
    found = []
    for route in _flattened(routes):
        endpoint, path = getattr(route, "endpoint", None), getattr(route, "path", None)
        if endpoint is None or path is None:
            continue
        real = inspect.unwrap(endpoint)
        code = getattr(real, "__code__", None)
        found.append(
            {
                "endpoint": f"{getattr(real, '__module__', '?')}:{getattr(real, '__qualname__', '?')}",
                "methods": sorted(getattr(route, "methods", None) or []),
                "path": path,
                "file": code.co_filename if code else None,
                "line": code.co_firstlineno if code else None,
            }
        )
    return found


def _router_of(project: Project, module: ModuleType) -> tuple[Any, str | None, dict[str, Any] | None]:
    """(router, why it is not one, failure): a missing attribute is the act's fault, not an import failure."""
    from fastapi import APIRouter

    try:
        router = module.router
    except AttributeError as error:
        deeper = [f for f in traceback.extract_tb(error.__traceback__) if project.owns(f.filename)]
        if all(os.path.realpath(f.filename) == os.path.realpath(module.__file__ or "") for f in deeper):
            return None, "it has no attribute `router`", None
        return None, None, _failure(project, f"{module.__name__}.router", error)
    except BaseException as error:
        return None, None, _failure(project, f"{module.__name__}.router", error)
    if not isinstance(router, APIRouter):
        return None, f"its `router` is a {type(router).__name__}, not an APIRouter", None
    return router, None, None


def probe_api(project: Project, request: dict[str, Any]) -> dict[str, Any]:
    """Import the API as its process does, note worker-only modules it loads, then read every router."""
    package = request["package"]
    worker_only = tuple(request["worker_only"])
    watch = ImportWatch(project, lambda name: any(name == w or name.startswith(f"{w}.") for w in worker_only))
    sys.meta_path.insert(0, watch)
    result: dict[str, Any] = {"failures": [], "app_routes": None, "acts": {}}
    try:
        api = importlib.import_module(f"{package}.api")
        result["app_routes"] = _routes(api.app.routes)
    except BaseException as error:
        result["failures"].append(_failure(project, f"import {package}.api", error))
    finally:
        sys.meta_path.remove(watch)
    result["loaded"] = watch.loaded()
    for act, scenes in request["acts"].items():
        entry: dict[str, Any] = {"routes": None, "not_a_router": None, "scenes": {}}
        try:
            router, entry["not_a_router"], failure = _router_of(project, importlib.import_module(act))
            if failure:
                result["failures"].append(failure)
            elif router is not None:
                entry["routes"] = _routes(router.routes)
        except BaseException as error:
            result["failures"].append(_failure(project, f"import {act}", error))
        for scene in scenes:
            try:
                scene_router = getattr(importlib.import_module(scene), "router", None)
                if scene_router is not None and hasattr(scene_router, "routes"):
                    entry["scenes"][scene] = _routes(scene_router.routes)
            except BaseException as error:
                result["failures"].append(_failure(project, f"import {scene}", error))
        result["acts"][act] = entry
    return result


def probe_worker(project: Project, request: dict[str, Any]) -> dict[str, Any]:
    """Load the Celery app and every task module as a worker does; note any web framework or scene it loads."""
    package = request["package"]
    web = set(request["web_framework"])

    def api_half(name: str) -> bool:
        parts = name.split(".")
        return parts[0] in web or (parts[:2] == [package, "acts"] and len(parts) > 3 and parts[3] == "scenes")

    watch = ImportWatch(project, api_half)
    sys.meta_path.insert(0, watch)
    result: dict[str, Any] = {"failures": [], "registered": None}
    try:
        app = importlib.import_module(f"{package}.celery").app
        app.loader.import_default_modules()
        result["registered"] = sorted(app.tasks)
    except BaseException as error:
        result["failures"].append(_failure(project, f"start the worker ({package}.celery:app)", error))
    finally:
        sys.meta_path.remove(watch)
    result["loaded"] = watch.loaded()
    return result


SIDES = {"api": probe_api, "worker": probe_worker}


def trace_exits(trace: IO[str]) -> Callable[[int], NoReturn]:
    """Make ``os._exit`` write where it was called before it ends the process; returns the real one."""
    real_exit = os._exit

    def traced_exit(status: int) -> NoReturn:
        trace.write(f"os._exit({status!r})\n")
        trace.flush()
        faulthandler.dump_traceback(trace, all_threads=False)
        real_exit(status)

    os._exit = traced_exit
    return real_exit


def main(argv: list[str]) -> None:
    sys.path[0] = os.getcwd()  # as `python -m` or uvicorn would have it, not this script's folder
    gc.disable()  # a short-lived process that only imports: collecting would cost a tenth of its time
    request_json, result_path = argv
    request = json.loads(request_json)
    trace = open(request["trace"], "w", encoding="utf-8")  # noqa: SIM115 (open until the process ends)
    faulthandler.enable(trace)
    faulthandler.dump_traceback_later(request["timeout"], exit=True, file=trace)
    exit_now = trace_exits(trace)
    project = Project(request["package_dir"])
    result = SIDES[request["side"]](project, request)
    faulthandler.cancel_dump_traceback_later()
    with open(result_path, "w", encoding="utf-8") as out:
        out.write(json.dumps(result))  # encoded in one go: json.dump writes a piece at a time
    sys.stdout.flush()
    sys.stderr.flush()
    # Tearing down every module the project loaded costs a fifth of a second; the answer is already written.
    exit_now(0)


if __name__ == "__main__":
    main(sys.argv[1:])
