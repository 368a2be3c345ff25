"""Ceiling: chorus's ``GET /health`` alone in an otherwise empty FastAPI app (the same typed pydantic answer)."""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"] = "ok"


app = FastAPI()


@app.get("/health")
async def health() -> Health:
    return Health()
