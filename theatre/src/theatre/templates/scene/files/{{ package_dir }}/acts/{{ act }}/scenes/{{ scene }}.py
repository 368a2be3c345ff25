"""Scene ``{{ scene }}`` of act ``{{ act }}``: say here which part of the API it serves."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()


@router.get("/{{ scene_path }}", summary="{{ scene_summary }}")
async def {{ act }}_{{ scene }}() -> dict[str, str]:
    """The act's router serves this under its prefix; a scene that causes work queues a task in its transaction."""
    return {"act": "{{ act }}", "scene": "{{ scene }}"}
