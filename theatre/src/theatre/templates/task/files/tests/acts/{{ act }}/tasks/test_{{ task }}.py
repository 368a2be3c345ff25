"""Task ``{{ act }}.{{ task }}``, consumed by the real worker."""

from {{ package }}.acts.{{ act }}.tasks.{{ task }} import {{ task }}
from tests.finished_tasks import FinishedTasks


def test_the_worker_runs_{{ task }}(finished_tasks: FinishedTasks) -> None:
    {{ task }}.delay()
    assert finished_tasks.wait_for("{{ act }}.{{ task }}") == "SUCCESS"
