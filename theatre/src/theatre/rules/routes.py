"""Every scene reachable: each act's router aggregates its scenes, and api mounts each act (L105-L107)."""

from __future__ import annotations

from typing import Any

from theatre.facts.layout import Layout
from theatre.rules.catalogue import Finding, NotRun, finding


def route_label(route: dict[str, Any]) -> str:
    methods = [m for m in route["methods"] if m != "HEAD"] or route["methods"]
    return f"{', '.join(methods)} {route['path']}".strip()


def check_routes(layout: Layout, api: dict[str, Any]) -> tuple[list[Finding], list[NotRun]]:
    """What the API probe saw of each act's router; what it could not see is returned as rules not run."""
    found: list[Finding] = []
    not_run: list[NotRun] = []
    api_file = layout.relative_file(f"{layout.package}.api")
    served = {route["endpoint"] for route in api["app_routes"]} if api["app_routes"] is not None else None
    if served is None:
        not_run.append(NotRun(("L107",), f"`{layout.package}.api:app` could not be imported (R304)", api_file))
    for act in layout.acts:
        entry = api["acts"].get(act.module)
        if entry is None:
            continue
        if entry["not_a_router"]:
            found.append(
                finding(
                    "L105",
                    f"act `{act.name}` does not expose `router`: {entry['not_a_router']}",
                    layout.relative_file(act.module),
                    None,
                )
            )
        routes = entry["routes"]
        if routes is None:
            why = "it exposes no router (L105)" if entry["not_a_router"] else "its router could not be built (R304)"
            codes = ("L106", "L107") if served is not None else ("L106",)
            not_run.append(NotRun(codes, f"act `{act.name}`: {why}", layout.relative_file(act.module)))
            continue
        reachable = {route["endpoint"] for route in routes}
        for scene, scene_routes in entry["scenes"].items():
            for route in scene_routes:
                if route["endpoint"] not in reachable:
                    found.append(
                        finding(
                            "L106",
                            f"`{route_label(route)}` ({route['endpoint']}) is not reachable from `{act.module}.router`",
                            layout.project.relative(route["file"]) if route["file"] else layout.relative_file(scene),
                            route["line"],
                        )
                    )
        missing = [route_label(route) for route in routes if served is not None and route["endpoint"] not in served]
        if missing:
            found.append(
                finding(
                    "L107",
                    f"`{layout.package}.api:app` does not serve act `{act.name}`: {', '.join(missing)}",
                    layout.relative_file(f"{layout.package}.api"),
                    None,
                )
            )
    return found, not_run
