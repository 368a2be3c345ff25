"""Scene ``reading`` of act ``notes``: a note by its id."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from {{ package }}.models.note import Note
from {{ package }}.schema.notes import NoteOut
from {{ package }}.web import DatabaseSession, Problem, documented

router = APIRouter()


@router.get("/{note_id}", summary="Read a note", responses=documented(404, 422))
async def notes_read(note_id: uuid.UUID, session: DatabaseSession) -> NoteOut:
    """``word_count`` is null until the worker has counted the note's words."""
    note = await session.get(Note, note_id)
    if note is None:
        raise Problem(404, f"no note {note_id}", "note_not_found")
    return NoteOut.model_validate(note)
