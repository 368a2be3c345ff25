"""Alembic migrations; ``{{ project }} migrate`` applies them."""
