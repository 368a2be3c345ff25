"""``theatre new``: a project in the layout, rendered from the project template into an empty folder.

The template's files become the project's own code (nothing at run time imports theatre), and ``.theatre/``
records the render so that ``theatre update`` can bring later template changes in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from theatre import __version__
from theatre.generation.names import NameRefused, default_package, package_name, project_name
from theatre.generation.record import write_record
from theatre.generation.render import Template, write


@dataclass(frozen=True)
class Answers:
    project: str
    package: str

    def as_dict(self) -> dict[str, str]:
        return {
            "project": self.project,
            "package": self.package,
            "package_dir": f"src/{self.package}",
            "env_prefix": self.package.upper(),
            "theatre_requirement": theatre_requirement(),
            "theatre_source": theatre_source(),
        }


def answers_for(project: str, package: str | None) -> Answers:
    """Checked answers: the package defaults to the project's name as an identifier."""
    return Answers(project_name(project), package_name(package or default_package(project)))


def theatre_requirement() -> str:
    """This theatre's minor series: later patch releases bring fixes, not a different layout."""
    major, minor = (int(part) for part in __version__.split(".")[:2])
    return f"theatre>={major}.{minor},<{major}.{minor + 1}"


def theatre_source() -> str:
    """Where the project's tools find theatre when it is not on an index: the local folder it was installed from
    (its PEP 610 record), else nothing and the index serves it."""
    try:
        record = metadata.distribution("theatre").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return ""
    if not record:
        return ""
    found = json.loads(record)
    url = found.get("url", "")
    if "dir_info" not in found or not url.startswith("file://"):
        return ""
    path = url2pathname(urlsplit(url).path)
    return f"\n[tool.uv.sources]\ntheatre = {{ path = {json.dumps(path)} }}\n"


def refuse_destination(destination: Path) -> None:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise NameRefused(f"{destination} is not an empty folder: theatre new writes into a new or empty one")


def create(destination: Path, answers: Answers, template: Template) -> list[Path]:
    """Render and write the project, then its record; nothing is written when a name or the folder is refused."""
    refuse_destination(destination)
    values = answers.as_dict()
    rendered = template.render(values)
    destination.mkdir(parents=True, exist_ok=True)
    written = write(rendered, destination)
    write_record(destination, template.version, values, rendered)
    return written
