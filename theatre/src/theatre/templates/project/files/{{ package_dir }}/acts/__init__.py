"""The acts: what the service does, one package per purpose, each with its scenes (API) and tasks (worker)."""
