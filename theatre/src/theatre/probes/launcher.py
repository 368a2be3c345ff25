"""Starts the probes: each side of the project in a fresh process of its own interpreter, side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theatre.facts.layout import Layout

PROBE_TIMEOUT_SECONDS = 120
INSIDE = Path(__file__).with_name("inside.py")  # run as a script: the project's interpreter needs no theatre
SIDE_ENTRY = {"api": "api", "worker": "celery"}  # the root module each side starts from


class ProbeError(Exception):
    """A probe process died without answering (not an import error of the project, which it reports): exit 2."""


@dataclass
class Probe:
    """One running probe; ``result`` waits for it and reads what it found."""

    side: str
    process: subprocess.Popen[str]
    result_path: Path

    def result(self) -> dict[str, Any]:
        try:
            _, stderr = self.process.communicate(timeout=PROBE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise ProbeError(f"the {self.side} probe did not finish in {PROBE_TIMEOUT_SECONDS} s") from None
        try:
            answer: dict[str, Any] = json.loads(self.result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ProbeError(f"the {self.side} probe failed (exit {self.process.returncode}):\n{stderr}") from None
        finally:
            self.result_path.unlink(missing_ok=True)
        return answer


def _request(layout: Layout, side: str) -> dict[str, Any]:
    settings = layout.project.settings
    return {
        "side": side,
        "package": layout.package,
        "package_dir": str(layout.project.package_dir),
        "worker_only": list(settings.worker_only),
        "web_framework": list(settings.web_framework),
        "acts": {act.module: list(act.scene_modules[1:]) for act in layout.acts},
    }


def start(layout: Layout, side: str) -> Probe:
    """Start one side now; its result is read later, so both sides and the static rules run at once."""
    project = layout.project
    handle, name = tempfile.mkstemp(prefix=f"theatre-{side}-", suffix=".json")
    os.close(handle)
    Path(name).unlink()
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, (str(project.source_root), environment.get("PYTHONPATH"))))
    process = subprocess.Popen(  # noqa: S603 (our own interpreter running our own module)
        [sys.executable, str(INSIDE), json.dumps(_request(layout, side)), name],
        cwd=project.root,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Probe(side=side, process=process, result_path=Path(name))
