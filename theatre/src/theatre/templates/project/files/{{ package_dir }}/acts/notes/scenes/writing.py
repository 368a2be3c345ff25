"""Scene ``writing`` of act ``notes``: store a note, then have the worker count its words."""

from __future__ import annotations

from fastapi import APIRouter, status

from {{ package }}.acts.notes.tasks.word_count import count_words
from {{ package }}.celery import enqueue
from {{ package }}.models.note import Note
from {{ package }}.schema.notes import NoteIn, NoteOut
from {{ package }}.web import DatabaseSession, documented

router = APIRouter()


@router.post("", status_code=status.HTTP_201_CREATED, summary="Write a note", responses=documented(422))
async def notes_write(note_in: NoteIn, session: DatabaseSession) -> NoteOut:
    """The note is stored first; its words are counted after the commit, so ``word_count`` starts as null."""
    note = Note(body=note_in.body)
    session.add(note)
    await session.commit()
    await enqueue(count_words, str(note.id))
    return NoteOut.model_validate(note)
