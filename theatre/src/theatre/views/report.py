"""How ``theatre check`` prints: one line per finding and its hint, coloured on a terminal, plain when piped."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from theatre.commands.check import Report
from theatre.rules.catalogue import RULES


def print_report(report: Report, console: Console) -> None:
    for found in report.findings:
        line = Text()
        line.append(f"{found.place}: ", style="bold")
        line.append(found.code, style="bold red")
        line.append(f" {found.message}")
        console.print(line)
        console.print(Text(f"    hint: {found.hint}", style="dim"))
    skipped = f", {len(report.ignored)} ignored ({', '.join(report.ignored)})" if report.ignored else ""
    checked = f"{len(RULES) - len(report.ignored)} rules{skipped}, {report.seconds:.2f} s"
    if report.findings:
        codes = ", ".join(sorted({f.code for f in report.findings}))
        count = len(report.findings)
        console.print(
            Text(f"theatre: {count} finding{'s' if count != 1 else ''} in {report.package} ({codes}); {checked}")
        )
    else:
        console.print(Text(f"theatre: {report.package} is clean ({checked})", style="green"))
