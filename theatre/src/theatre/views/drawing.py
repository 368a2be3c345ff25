"""How ``theatre map`` draws: a tree on the terminal, or Mermaid for documents (the README embeds it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from theatre.commands.map import StageMap

# Rich's guides for a tree whose guide style is neither bold nor double-underlined (Tree's default).
SPACE, CONTINUE, FORK, END = Tree.TREE_GUIDES[0]


@dataclass
class Node:
    """One line of the tree, as Rich draws it, and the lines under it."""

    label: Text
    children: list[Node] = field(default_factory=list)

    def add(self, label: Text) -> Node:
        child = Node(label)
        self.children.append(child)
        return child


def _arrow(tasks: tuple[str, ...]) -> str:
    return f"  → {', '.join(tasks)}" if tasks else ""


def print_tree(stage: StageMap, console: Console) -> None:
    root = outline(stage)
    if not console.is_terminal and console.color_system is None and not console.options.ascii_only:
        plain = plain_tree(root, console.width)
        if plain is not None:  # what Rich would print without styles, drawn a dozen times faster
            console.file.write(plain)
            console.file.flush()
            return
    console.print(rich_tree(root))


def rich_tree(node: Node) -> Tree:
    tree = Tree(node.label)
    pending = [(tree, node)]
    while pending:
        branch, parent = pending.pop()
        for child in parent.children:
            pending.append((branch.add(child.label), child))
    return tree


def plain_tree(root: Node, width: int) -> str | None:
    """The tree's lines without styles, or None when a label would not be one plain line of that width (Rich
    wraps it, or measures it differently): then Rich draws it."""
    lines: list[str] = []
    pending: list[tuple[Node, str, str]] = [(root, "", "")]  # node, its guide, the guides of the lines under it
    while pending:
        node, guide, indent = pending.pop()
        label = node.label.plain
        if not label.isprintable() or cell_len(label) != len(label) or len(guide) + len(label) > width:
            return None
        lines.append(guide + label)
        last = len(node.children) - 1
        for number, child in reversed(list(enumerate(node.children))):
            fork, below = (END, SPACE) if number == last else (FORK, CONTINUE)
            pending.append((child, indent + fork, indent + below))
    return "".join(f"{line}\n" for line in lines)


def outline(stage: StageMap) -> Node:
    tree = Node(Text(stage.package, style="bold"))
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
    return tree


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
