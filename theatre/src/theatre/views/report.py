"""How ``theatre check`` prints: one line per finding and its hint, one per group of rules that could not run, and
a summary that counts what ran; coloured on a terminal, plain when piped."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from theatre.commands.check import Report


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def summary(report: Report) -> str:
    """What ran and what was set aside: ``17 rules ran, 1 ignored (I203); 2 suppressed; 1.49 s``."""
    counts = [f"{_plural(len(report.rules_run), 'rule')} ran"]
    if report.rules_not_run:
        counts.append(f"{len(report.rules_not_run)} not run ({', '.join(report.rules_not_run)})")
    if report.ignored:
        counts.append(f"{len(report.ignored)} ignored ({', '.join(report.ignored)})")
    silenced = []
    if report.suppressed:
        silenced.append(f"{len(report.suppressed)} suppressed")
    if report.baselined:
        silenced.append(f"{len(report.baselined)} in the baseline")
    return "; ".join(filter(None, (", ".join(counts), ", ".join(silenced), f"{report.seconds:.2f} s")))


def print_report(report: Report, console: Console) -> None:
    for found in report.findings:
        line = Text()
        line.append(f"{found.place}: ", style="bold")
        line.append(found.code, style="bold red")
        line.append(f" {found.message}")
        console.print(line)
        console.print(Text(f"    hint: {found.hint}", style="dim"))
    for entry in report.not_run:
        line = Text()
        line.append(f"{entry.place}: ", style="bold")
        line.append(f"not run: {', '.join(entry.codes)}", style="bold yellow")
        line.append(f": {entry.reason}")
        console.print(line)
    if report.findings:
        codes = ", ".join(sorted({f.code for f in report.findings}))
        head = f"{_plural(len(report.findings), 'finding')} in {report.package} ({codes})"
        console.print(Text(f"theatre: {head}; {summary(report)}"))
    elif report.not_run:
        console.print(Text(f"theatre: {report.package} is not clean: rules did not run; {summary(report)}"))
    else:
        console.print(Text(f"theatre: {report.package} is clean ({summary(report)})", style="green"))
