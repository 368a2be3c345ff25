"""``python -m theatre``: the same command as ``theatre``, for an interpreter whose scripts are not on PATH."""

from theatre.cli import app

app(prog_name="theatre")
