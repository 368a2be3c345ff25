"""Pydantic payloads the API consumes and produces, one module per act's vocabulary."""
