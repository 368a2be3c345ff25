"""The scenarios of a run: HTTP load against chorus and its ceilings, live updates, background work, cold start."""
