"""How an act hands out its public face lazily: ``router`` and other web-side names are built on first use.

An act's ``__init__`` is the only thing other code imports of it. Handing its names out through a module
``__getattr__`` (PEP 562) means a worker importing ``chorus.acts.<act>.tasks`` runs that ``__init__`` without
loading FastAPI or any scene.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def public_face(
    package: str, *, prefix: str, scenes: Sequence[str], names: Mapping[str, str] | None = None
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the act ``package``.

    ``router`` aggregates the ``router`` of each module in ``scenes`` (in that order) under ``prefix``; each
    entry of ``names`` maps a public name to the act's module that defines it.
    """
    act = package.rsplit(".", 1)[-1]
    module = importlib.import_module(package)
    exports = dict(names or {})

    def stage() -> Any:
        from fastapi import APIRouter

        router = APIRouter(tags=[act])
        for scene in scenes:
            router.include_router(importlib.import_module(f"{package}.scenes.{scene}").router, prefix=prefix)
        return router

    def __getattr__(name: str) -> Any:  # noqa: N807 - it becomes the module's __getattr__
        if name == "router":
            value = stage()
        elif name in exports:
            value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(module, name, value)  # built once; later lookups never reach __getattr__
        return value

    return __getattr__
