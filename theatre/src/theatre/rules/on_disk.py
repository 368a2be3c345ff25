"""Layout on disk: the root modules and folders, each act's scenes and tasks packages, and no folder under acts that
is not a package (L101-L104, L108)."""

from __future__ import annotations

from theatre.facts.layout import ROOT_FOLDERS, ROOT_MODULES, Layout, is_package
from theatre.rules.catalogue import Finding, finding


def check_layout(layout: Layout) -> list[Finding]:
    project = layout.project
    root = project.package_dir
    found: list[Finding] = []
    for name in ROOT_MODULES:
        path = root / f"{name}.py"
        if not path.is_file() and not (name != "__init__" and is_package(root / name)):
            found.append(finding("L101", f"{project.package} has no `{name}` module", project.relative(path), None))
    for name in ROOT_FOLDERS:
        if not is_package(root / name):
            path = root / name / "__init__.py"
            found.append(finding("L102", f"{project.package} has no `{name}` package", project.relative(path), None))
    for act in layout.acts:
        for code, part in (("L103", "scenes"), ("L104", "tasks")):
            if not is_package(act.directory / part):
                path = act.directory / part / "__init__.py"
                found.append(finding(code, f"act `{act.name}` has no `{part}` package", project.relative(path), None))
    covered = {act.directory / part for act in layout.acts for part in ("scenes", "tasks")}  # L103, L104
    for folder in layout.strays:
        if folder in covered:
            continue
        found.append(
            finding(
                "L108",
                f"`{project.relative(folder)}` holds Python modules but has no __init__.py",
                project.relative(folder / "__init__.py"),
                None,
            )
        )
    return found
