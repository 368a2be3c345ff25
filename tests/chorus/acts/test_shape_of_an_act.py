"""Every chorus act is shaped exactly as ``theatre act add`` makes one: the template is proven by a real service.

Each act's ``__init__`` is theatre's act template rendered with the act's prefix and first scene, grown by
``theatre scene add`` for the others; chorus may add only what an act's face needs beyond ``router`` (more names
in ``TYPE_CHECKING`` and ``__all__``, and ``elif`` branches handing them out). Its ``scenes`` and ``tasks``
packages' ``__init__`` match to the letter.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from theatre.commands.grow import with_scene, with_task
from theatre.generation.render import builtin

import chorus

ACTS = Path(chorus.__file__).parent / "acts"
ACT_NAMES = sorted(p.name for p in ACTS.iterdir() if (p / "__init__.py").is_file())
INIT = "src/chorus/acts/{act}/__init__.py"


def _render(act: str, prefix: str, scenes: list[str], tasks: list[str]) -> dict[str, str]:
    """What theatre act add, then scene add and task add for the rest, would write for this act."""
    answers = {"package": "chorus", "package_dir": "src/chorus", "act": act, "act_path": prefix, "about": "-"}
    files = builtin("act").render(answers | {"scene": scenes[0], "task": tasks[0]})
    init, tasks_init = INIT.format(act=act), INIT.format(act=f"{act}/tasks")
    for scene in scenes[1:]:
        files[init] = with_scene(files[init], scene, Path(init))
    for task in tasks[1:]:
        files[tasks_init] = with_task(files[tasks_init], "chorus", act, task, Path(tasks_init))
    return files


def _face_without_additions(source: str) -> str:
    """The module's AST without its docstring and without what an act may add to the template's face."""
    module = ast.parse(source)
    module.body = module.body[1:]  # the docstring: its first line is checked on its own
    for node in module.body:
        if isinstance(node, ast.If):  # if TYPE_CHECKING: only the router's annotation
            node.body = [n for n in node.body if "APIRouter" in ast.unparse(n)]
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            node.value = ast.List([ast.Constant("router")])
        elif isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            branch = next(n for n in node.body if isinstance(n, ast.If))
            while len(branch.orelse) == 1 and isinstance(branch.orelse[0], ast.If):  # elif: another public name
                branch.orelse = branch.orelse[0].orelse
    return ast.dump(module)


@pytest.mark.parametrize("act", ACT_NAMES)
def test_an_acts_face_is_the_template_plus_its_other_public_names(act: str) -> None:
    source = (ACTS / act / "__init__.py").read_text()
    prefix = re.search(r'include_router\(\w+\.router, prefix="/([^"]*)"\)', source)
    scenes = re.findall(r"value\.include_router\((\w+)\.router, ", source)
    tasks = sorted(p.stem for p in (ACTS / act / "tasks").glob("*.py") if p.stem != "__init__")
    assert prefix, f"act {act} mounts no scene under a prefix as the template does"
    assert scenes, f"act {act} aggregates no scene with value.include_router(...) as the template does"

    made = _render(act, prefix.group(1), scenes, tasks)
    assert source.startswith(f'"""Act ``{act}``: ')
    assert _face_without_additions(source) == _face_without_additions(made[INIT.format(act=act)])
    for package in ("scenes", "tasks"):
        expected = made[INIT.format(act=f"{act}/{package}")]
        assert (ACTS / act / package / "__init__.py").read_text() == expected, f"{act}/{package}/__init__.py"


def test_the_comparison_notices_a_face_that_strays() -> None:
    made = _render("billing", "billing", ["overview", "archive"], ["tidy"])[INIT.format(act="billing")]
    strayed = re.sub(r"^ *value\.include_router\(archive\.router.*\n", "", made, flags=re.MULTILINE)
    assert strayed != made
    assert _face_without_additions(strayed) != _face_without_additions(made)
