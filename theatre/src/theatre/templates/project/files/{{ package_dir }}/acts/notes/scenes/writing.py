"""Scene ``writing`` of act ``notes``: store a note, and have the worker count its words."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from {{ package }}.acts.notes.tasks.word_count import count_words
from {{ package }}.adapters.outbox import queue_task
from {{ package }}.models.note import Note
from {{ package }}.schema.notes import NoteIn, NoteOut
from {{ package }}.web import DatabaseSession, documented

router = APIRouter()


@router.post("", status_code=status.HTTP_201_CREATED, summary="Write a note", responses=documented(422))
async def notes_write(note_in: NoteIn, session: DatabaseSession) -> NoteOut:
    """The count is queued in the note's own transaction and done after the commit, so ``word_count`` starts as
    null."""
    note = Note(id=uuid.uuid4(), body=note_in.body)
    session.add(note)
    queue_task(session, count_words, str(note.id))
    await session.commit()
    return NoteOut.model_validate(note)
