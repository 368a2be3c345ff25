"""How ``theatre map`` draws: a tree on the terminal, or Mermaid for documents (the README embeds it)."""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from theatre.commands.map import StageMap


def _arrow(tasks: tuple[str, ...]) -> str:
    return f"  → {', '.join(tasks)}" if tasks else ""


def print_tree(stage: StageMap, console: Console) -> None:
    tree = Tree(Text(stage.package, style="bold"))
    for act in stage.acts:
        branch = tree.add(Text(act.name, style="bold cyan"))
        scenes = branch.add(Text("scenes", style="dim"))
        for scene in act.scenes:
            line = Text(scene.label, style="green")
            line.append(f"  {scene.endpoint.rpartition('.')[2]}", style="dim")
            line.append(_arrow(scene.queued), style="yellow")
            scenes.add(line)
        tasks = branch.add(Text("tasks", style="dim"))
        for task in act.tasks:
            line = Text(task.declared.name, style="magenta")
            line.append(f"  {task.declared.module.rpartition('.')[2]}.{task.declared.function}", style="dim")
            line.append(_arrow(task.queued), style="yellow")
            tasks.add(line)
    if stage.elsewhere:
        others = tree.add(Text("elsewhere", style="bold"))
        for enqueue in stage.elsewhere:
            others.add(Text(f"{enqueue.caller}:{enqueue.line}  → {enqueue.task}"))
    console.print(tree)


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def _node_id(kind: str, name: str) -> str:
    return f"{kind}_{re.sub(r'[^0-9A-Za-z]+', '_', name).strip('_')}"


def mermaid(stage: StageMap) -> str:
    """A flowchart: a subgraph per act holding its routes (boxes) and tasks (rounded), arrows for enqueues."""
    lines = ["flowchart LR"]
    edges: list[tuple[str, str]] = []
    task_ids = {task.declared.name: _node_id("task", task.declared.name) for act in stage.acts for task in act.tasks}
    for act in stage.acts:
        lines.append(f"  subgraph {_node_id('act', act.name)}[{_label(act.name)}]")
        for task in act.tasks:
            lines.append(f"    {task_ids[task.declared.name]}([{_label(task.declared.name)}])")
            edges += [(task_ids[task.declared.name], name) for name in task.queued]
        for number, scene in enumerate(act.scenes, start=1):
            scene_id = _node_id("scene", f"{act.name}_{number}")
            lines.append(f"    {scene_id}[{_label(scene.label)}]")
            edges += [(scene_id, name) for name in scene.queued]
        if not act.scenes and not act.tasks:
            lines.append(f"    {_node_id('empty', act.name)}[{_label('no scenes or tasks')}]")
        lines.append("  end")
    for enqueue in stage.elsewhere:
        caller = _node_id("caller", enqueue.caller)
        lines.append(f"  {caller}[{_label(enqueue.caller)}]")
        edges.append((caller, enqueue.task))
    for _, name in edges:
        if name not in task_ids:  # queued by name (send_task) but declared in no act
            task_ids[name] = _node_id("task", name)
            lines.append(f"  {task_ids[name]}([{_label(name)}])")
    lines += [f"  {source} --> {task_ids[name]}" for source, name in dict.fromkeys(edges)]
    return "\n".join(lines) + "\n"
