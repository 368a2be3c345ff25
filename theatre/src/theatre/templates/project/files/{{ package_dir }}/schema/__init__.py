"""Pydantic payloads the API reads and writes, one module per act's vocabulary."""
