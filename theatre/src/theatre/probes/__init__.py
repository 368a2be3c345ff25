"""Probes: each side of the project (API, worker) started in a fresh process of the project's own interpreter."""
