"""The ceilings: minimal apps on the same settings as chorus's, each as thin as it can be (ASGI apps under the same
server settings; a Celery worker with a no-op task, on the same broker and worker settings)."""
