"""The acts: each folder is one thing the service provides, with its scenes (API) and tasks (worker)."""
