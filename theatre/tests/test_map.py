"""``theatre map`` on the base fixture: every act, route and task, and each way of enqueueing a task."""

from __future__ import annotations

from tests.command_line import Stage, add_setting, theatre

MERMAID = """\
flowchart LR
  subgraph act_stage["stage"]
    task_stage_rehearse(["stage.rehearse"])
    task_stage_strike(["stage.strike"])
    scene_stage_1["POST /stage/lines"]
    scene_stage_2["GET /stage/lines"]
  end
  subgraph act_wings["wings"]
    task_wings_cue(["wings.cue"])
    task_play_acts_wings_tasks_cueing_reset(["play.acts.wings.tasks.cueing.reset"])
    scene_wings_1["PUT /wings/cues/{cue_id}"]
  end
  task_stage_strike --> task_stage_rehearse
  task_stage_strike --> task_wings_cue
  scene_stage_1 --> task_stage_rehearse
  scene_stage_2 --> task_stage_rehearse
  scene_wings_1 --> task_wings_cue
  scene_wings_1 --> task_play_acts_wings_tasks_cueing_reset
"""

PROMPTER = '''\
"""Queues through a helper of its own, named in [tool.theatre] enqueue-helpers."""

from typing import Any

from play.acts.stage.tasks.rehearsal import rehearse


def queue_up(task: Any, *args: Any) -> None:
    task.delay(*args)


def queue_task(session: Any, task: Any, *args: Any) -> None:
    task.delay(*args)


def call_everyone() -> None:
    queue_up(rehearse, "places")
    queue_task(None, rehearse, "curtain")
'''


def test_mermaid_shows_every_act_route_and_task_edge(stage: Stage) -> None:
    run = theatre("map", "--project", stage(), "--format", "mermaid")
    assert run.exit_code == 0
    assert run.output == MERMAID


def test_json_says_how_and_where_each_task_is_queued(stage: Stage) -> None:
    document = theatre("map", "--project", stage(), "--format", "json").json()
    found = {
        (entry.get("route") or entry["name"], queued["task"], queued["how"], queued["line"])
        for act in document["acts"]
        for entry in (*act["scenes"], *act["tasks"])
        for queued in entry["enqueues"]
    }
    assert found == {
        ("POST /stage/lines", "stage.rehearse", "enqueue()", 17),
        ("GET /stage/lines", "stage.rehearse", ".delay", 12),  # in a helper the route calls
        ("stage.strike", "stage.rehearse", ".s", 13),
        ("stage.strike", "wings.cue", "send_task", 14),
        ("PUT /wings/cues/{cue_id}", "wings.cue", ".apply_async", 14),
        ("PUT /wings/cues/{cue_id}", "play.acts.wings.tasks.cueing.reset", ".si", 15),
    }
    scene = document["acts"][0]["scenes"][0]
    assert (scene["endpoint"], scene["file"], scene["line"]) == (
        "play.acts.stage.scenes.lines:speak",
        "play/acts/stage/scenes/lines.py",
        15,
    )
    assert document["elsewhere"] == []


def test_the_tree_lists_routes_and_tasks_with_what_they_queue(stage: Stage) -> None:
    tree = theatre("map", "--project", stage()).output.splitlines()
    assert tree[0] == "play"
    assert "PUT /wings/cues/{cue_id}  cues:set_cue  → wings.cue, play.acts.wings.tasks.cueing.reset" in tree[-4]
    assert tree[-2].endswith("wings.cue  cueing.cue")


def test_enqueue_helpers_come_from_pyproject(stage: Stage) -> None:
    project = stage()
    (project / "play" / "prompter.py").write_text(PROMPTER)
    before = theatre("map", "--project", project, "--format", "json").json()["elsewhere"]
    add_setting(project, 'enqueue-helpers = ["queue_up", "queue_task"]')
    after = theatre("map", "--project", project, "--format", "json").json()["elsewhere"]
    assert before == []
    assert after == [
        {
            "caller": "play.prompter:call_everyone",
            "task": "stage.rehearse",
            "how": "queue_up()",
            "module": "play.prompter",
            "line": 17,
        },
        {  # the task need not come first: queue_task(session, task, ...)
            "caller": "play.prompter:call_everyone",
            "task": "stage.rehearse",
            "how": "queue_task()",
            "module": "play.prompter",
            "line": 18,
        },
    ]


def test_a_project_whose_api_fails_to_import_is_drawn_as_far_as_it_can_be_and_exits_2(stage: Stage) -> None:
    run = theatre("map", "--project", stage("api_fails_to_import"), "--format", "mermaid")
    assert run.exit_code == 2
    assert "import play.api fails: ImportError: cannot import name 'PORT'" in run.errors
    assert 'scene_wings_1["PUT /wings/cues/{cue_id}"]' in run.output  # the acts themselves still import
